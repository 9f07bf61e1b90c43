// The outbox relay process: telemetry first (instrumentation must hook modules before they load), then the relay.
import { startTelemetry } from "../shared/telemetry/start-telemetry.ts";

const telemetry = startTelemetry({ serviceName: "outbox-relay" });

const { loadConfig } = await import("../shared/config/load-config.ts");
const { createLogger } = await import("../shared/logging/create-logger.ts");
const { assembleRelay } = await import("./relay-setup.ts");
const { serveProcessMetrics } = await import("../shared/metrics/serve-process-metrics.ts");
const { exposeRelayMetrics } = await import("./relay-prometheus.ts");

const config = loadConfig();
const logger = createLogger({ service: "outbox-relay", level: config.LOG_LEVEL });

async function main(): Promise<void> {
  const { relay, metrics } = await assembleRelay(config, logger);
  const { registry, server: metricsServer } = await serveProcessMetrics(config, "outbox-relay", logger);
  exposeRelayMetrics(registry, metrics);
  await relay.start();
  logger.info({ shards: config.RELAY_SHARDS, batch_size: config.RELAY_BATCH_SIZE, wakeup: config.RELAY_WAKEUP }, "outbox relay started");

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping: finishing the in-flight batch, releasing shard locks");
    // A hung dependency must not keep the process alive past the grace period.
    const deadline = setTimeout(() => {
      logger.error({ grace_ms: config.SHUTDOWN_GRACE_MS }, "shutdown grace period exceeded; exiting");
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS);
    deadline.unref();
    await relay.stop();
    await metricsServer.close();
    logger.info({ published_total: metrics.published }, "outbox relay stopped");
    await telemetry.shutdown().catch((error: unknown) => logger.warn({ err: error }, "telemetry flush failed"));
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch(async (error: unknown) => {
  logger.fatal({ err: error }, "outbox relay failed to start");
  await telemetry.shutdown().catch(() => undefined);
  process.exit(1);
});
