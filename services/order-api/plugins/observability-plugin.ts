/**
 * Operations: /metrics (HTTP latency, orders placed, Prefer: wait waiters, backlog gauges refreshed in the
 * background), /monitor/* and the live page. /metrics is registered on the root instance (its latency hook must see
 * every route, hence fastify-plugin) and, like /monitor/*, needs MONITOR_TOKEN when one is set.
 */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { AppConfig } from "../../shared/config/config-schema.ts";
import { registerHttpMetrics } from "../../shared/metrics/fastify-http-metrics.ts";
import type { Registry } from "../../shared/metrics/metrics-registry.ts";
import { registerOrderPlacedMetric } from "../http/order-placed-metric.ts";
import { requireBearer } from "../http/bearer-auth.ts";
import { backgroundRefresh } from "../monitor/gauge-refresh.ts";
import { backlogMetrics } from "../../shared/metrics/orderflow-metrics.ts";
import type { MonitorService } from "../monitor/monitor-service.ts";
import { registerLivePage } from "../routes/live-page.ts";
import { registerMonitorRoutes } from "../routes/monitor-lag.ts";

export interface ObservabilityOptions {
  config: AppConfig;
  registry: Registry;
  monitor: MonitorService;
}

async function observability(app: FastifyInstance, options: ObservabilityOptions): Promise<void> {
  const { config, registry, monitor } = options;
  const refresh = backgroundRefresh(
    () => monitor.refreshGauges(registry),
    config.MONITOR_GAUGE_REFRESH_MS,
    (error) => app.log.warn({ err: error }, "backlog gauges could not be refreshed; /metrics serves the last values"),
  );
  // The gauges exist from the first scrape on (0 until the first refresh), and that refresh starts with the app
  // rather than waiting for a first scrape to ask for it.
  backlogMetrics(registry);
  app.addHook("onReady", async () => refresh());
  const metricsAuth = requireBearer(config.MONITOR_TOKEN, "orderflow-monitor", "MONITOR_TOKEN");
  app.addHook("onRequest", async (request, reply) => {
    if (request.routeOptions.url === "/metrics") await metricsAuth(request, reply);
  });
  registerHttpMetrics(app, registry, { beforeScrape: async () => refresh() });
  registerOrderPlacedMetric(app, registry);
  registerMonitorRoutes(app, monitor, config.MONITOR_TOKEN);
  registerLivePage(app);
}

export const observabilityPlugin = fp(observability, { name: "order-api-observability" });
