import type { FastifyInstance } from "fastify";
import type { Registry } from "../../shared/metrics/metrics-registry.ts";
import { orderMetrics } from "../../shared/metrics/orderflow-metrics.ts";

/** Counts accepted orders (201 on POST /orders); an idempotent replay is the same order, so it is not counted again. */
export function registerOrderPlacedMetric(app: FastifyInstance, registry: Registry): void {
  const { placed } = orderMetrics(registry);
  app.addHook("onResponse", async (request, reply) => {
    if (request.method !== "POST" || request.routeOptions.url !== "/orders" || reply.statusCode !== 201) return;
    if (reply.getHeader("idempotency-replayed") === "true") return;
    const currency = (request.body as { currency?: unknown } | undefined)?.currency;
    placed.inc({ currency: typeof currency === "string" ? currency : "unknown" });
  });
}
