import type { FastifyInstance } from "fastify";
import { hasToken, requireBearer } from "../http/bearer-auth.ts";
import type { MonitorService } from "../monitor/monitor-service.ts";

const looseObject = { type: "object", additionalProperties: true } as const;

/**
 * GET /monitor/lag: consumer lag per group/topic/partition with owners and totals, outbox backlog, dead-letter
 * depth, stuck orders. GET /monitor/recent-orders: the live page's order list and throughput. Both behind
 * MONITOR_TOKEN (when set). `?fresh=1` bypasses the one-second cache only for a caller presenting the token: an
 * anonymous caller must not be able to make every request a Kafka round trip.
 */
export function registerMonitorRoutes(app: FastifyInstance, monitor: MonitorService, token: string): void {
  const onRequest = requireBearer(token, "orderflow-monitor", "MONITOR_TOKEN");
  app.get<{ Querystring: { fresh?: string } }>(
    "/monitor/lag",
    { onRequest, schema: { tags: ["monitor"], summary: "Consumer lag, outbox backlog, dead letters, stuck orders", response: { 200: looseObject } } },
    async (request, reply) => {
      const report = await monitor.lagReport({ fresh: request.query.fresh === "1" && hasToken(request, token) });
      return reply.header("cache-control", "no-store").send(report);
    },
  );
  app.get(
    "/monitor/recent-orders",
    { onRequest, schema: { tags: ["monitor"], summary: "Latest orders with status and trace id; throughput", response: { 200: looseObject } } },
    async (_request, reply) => reply.header("cache-control", "no-store").send(await monitor.recentOrders()),
  );
}
