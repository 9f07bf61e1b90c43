import type { FastifyInstance } from "fastify";
import { requireMonitorToken } from "../monitor/monitor-auth.ts";
import type { MonitorService } from "../monitor/monitor-service.ts";

const looseObject = { type: "object", additionalProperties: true } as const;

/**
 * GET /monitor/lag: consumer lag per group/topic/partition with owners and totals, outbox backlog, dead-letter
 * depth, stuck orders. GET /monitor/recent-orders: the live page's order list and throughput.
 * `?fresh=1` bypasses the one-second cache (tests comparing with Kafka's own tool).
 */
export function registerMonitorRoutes(app: FastifyInstance, monitor: MonitorService, token: string): void {
  const preHandler = requireMonitorToken(token);
  app.get<{ Querystring: { fresh?: string } }>(
    "/monitor/lag",
    { preHandler, schema: { tags: ["monitor"], summary: "Consumer lag, outbox backlog, dead letters, stuck orders", response: { 200: looseObject } } },
    async (request, reply) => {
      const report = await monitor.lagReport({ fresh: request.query.fresh === "1" });
      return reply.header("cache-control", "no-store").send(report);
    },
  );
  app.get(
    "/monitor/recent-orders",
    { preHandler, schema: { tags: ["monitor"], summary: "Latest orders with status and trace id; throughput", response: { 200: looseObject } } },
    async (_request, reply) => reply.header("cache-control", "no-store").send(await monitor.recentOrders()),
  );
}
