import type { FastifyInstance } from "fastify";
import { PROMETHEUS_CONTENT_TYPE, type Registry } from "./metrics-registry.ts";
import { renderMetrics } from "./metrics-server.ts";
import { httpMetrics } from "./orderflow-metrics.ts";

/**
 * Records every response in the HTTP latency histogram and serves GET /metrics from the same Fastify instance.
 * The route label is the route template ("/orders/:id"), or "unmatched" for 404s, so scanners cannot explode it.
 */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry, options: { beforeScrape?: () => Promise<void> } = {}): void {
  const { requestDuration } = httpMetrics(registry);
  app.addHook("onResponse", async (request, reply) => {
    requestDuration.observe(
      {
        http_request_method: request.method,
        http_route: request.routeOptions.url ?? "unmatched",
        http_response_status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  app.get("/metrics", { schema: { tags: ["health"], summary: "Prometheus metrics (text format 0.0.4)", hide: false } }, async (_request, reply) => {
    await options.beforeScrape?.();
    const text = await renderMetrics(registry);
    return reply.type(PROMETHEUS_CONTENT_TYPE).header("cache-control", "no-store").send(text);
  });
}
