import type { AppConfig } from "../config/config-schema.ts";
import type { Logger } from "../logging/create-logger.ts";
import { processRegistry, type Registry } from "./metrics-registry.ts";
import { startMetricsServer, type MetricsServer } from "./metrics-server.ts";

/**
 * For a process without its own HTTP server (relay, consumers): the process registry served on METRICS_HOST:METRICS_PORT
 * (0 = a free port). Logs "metrics listening" with the URL so a scraper (or a test) can find it.
 */
export async function serveProcessMetrics(
  config: Pick<AppConfig, "METRICS_HOST" | "METRICS_PORT">,
  service: string,
  logger: Logger,
): Promise<{ registry: Registry; server: MetricsServer }> {
  const registry = processRegistry(service);
  const server = await startMetricsServer(registry, config.METRICS_HOST, config.METRICS_PORT);
  logger.info({ metrics_url: server.url, metrics_port: server.port }, "metrics listening");
  return { registry, server };
}
