// The outbox relay process: telemetry first (instrumentation must hook modules before they load), then the relay.
import { startTelemetry } from "../shared/telemetry/start-telemetry.ts";

const telemetry = startTelemetry({ serviceName: "outbox-relay" });

const { loadConfig } = await import("../shared/config/load-config.ts");
const { createLogger } = await import("../shared/logging/create-logger.ts");
const { assembleRelay } = await import("./relay-setup.ts");
const { serveProcessMetrics } = await import("../shared/metrics/serve-process-metrics.ts");
const { exposeRelayMetrics } = await import("./relay-prometheus.ts");
const { installGracefulShutdown } = await import("../shared/lifecycle/graceful-shutdown.ts");

const config = loadConfig();
const logger = createLogger({ service: "outbox-relay", level: config.LOG_LEVEL });

async function main(): Promise<void> {
  const { relay, metrics } = await assembleRelay(config, logger);
  const { registry, server: metricsServer } = await serveProcessMetrics(config, "outbox-relay", logger);
  exposeRelayMetrics(registry, metrics);
  await relay.start();
  logger.info({ shards: config.RELAY_SHARDS, batch_size: config.RELAY_BATCH_SIZE, wakeup: config.RELAY_WAKEUP }, "outbox relay started");

  installGracefulShutdown({
    logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    telemetry,
    stop: async () => {
      await relay.stop(); // finishes the in-flight batch, releases shard locks
      await metricsServer.close();
      logger.info({ published_total: metrics.published }, "outbox relay stopped");
    },
  });
}

main().catch(async (error: unknown) => {
  logger.fatal({ err: error }, "outbox relay failed to start");
  await telemetry.shutdown().catch(() => undefined);
  process.exit(1);
});
