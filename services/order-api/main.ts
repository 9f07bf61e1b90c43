/**
 * Entry point of the order API: telemetry first, then the application modules (imported dynamically so the
 * instrumentation can patch http, pg and fastify before they load), then listen; SIGTERM/SIGINT drain and stop.
 */
import { startTelemetry } from "../shared/telemetry/start-telemetry.ts";

const SERVICE_NAME = "order-api";
const telemetry = startTelemetry({ serviceName: SERVICE_NAME });

const { loadConfig } = await import("../shared/config/load-config.ts");
const { createLogger } = await import("../shared/logging/create-logger.ts");
const { databaseFromConfig } = await import("../shared/db/index.ts");
const { deadline, installGracefulShutdown } = await import("../shared/lifecycle/graceful-shutdown.ts");
const { assertSecrets, MissingSecretsError } = await import("./startup/required-secrets.ts");
const { buildApp } = await import("./app.ts");

const config = loadConfig();
const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
try {
  assertSecrets(config);
} catch (error) {
  if (!(error instanceof MissingSecretsError)) throw error;
  logger.fatal({ problems: error.problems }, error.message);
  logger.flush();
  await telemetry.shutdown().catch(() => undefined);
  process.exit(78); // EX_CONFIG
}
const database = databaseFromConfig(config, SERVICE_NAME, logger);
const app = await buildApp({ config, pool: database.pool, prisma: database.prisma, logger });

const shutdown = installGracefulShutdown({
  logger,
  // The drain below is bounded by SHUTDOWN_GRACE_MS itself; the extra seconds are for disconnect and flush.
  graceMs: config.SHUTDOWN_GRACE_MS + 5_000,
  telemetry,
  stop: async () => {
    // In-flight requests finish (their transactions commit or roll back); past the grace the rest are cut.
    const drained = await Promise.race([app.close().then(() => "closed" as const), deadline(config.SHUTDOWN_GRACE_MS)]);
    if (drained === "timeout") logger.warn("grace period over: closing with requests still running");
    await Promise.race([database.close(), deadline(2_000)]);
  },
});

try {
  const address = await app.listen({ host: config.API_HOST, port: config.API_PORT });
  logger.info({ address, docs: `${address}/docs` }, "order API listening");
} catch (error) {
  logger.fatal({ err: error }, "order API failed to start");
  await shutdown("start failed", 1);
}
