/**
 * Entry point of the order API: telemetry first, then the application modules (imported dynamically so the
 * instrumentation can patch http, pg and fastify before they load), then listen; SIGTERM/SIGINT drain and stop.
 */
import { startTelemetry } from "../shared/telemetry/start-telemetry.ts";

const SERVICE_NAME = "order-api";
const telemetry = startTelemetry({ serviceName: SERVICE_NAME });

const { loadConfig } = await import("../shared/config/load-config.ts");
const { createLogger } = await import("../shared/logging/create-logger.ts");
const { createPrisma } = await import("../shared/db/index.ts");
const { buildApp } = await import("./app.ts");

const config = loadConfig();
const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
const prisma = createPrisma(config.DATABASE_URL, {
  poolSize: config.DATABASE_POOL_SIZE,
  connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
  statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  applicationName: SERVICE_NAME,
  onPoolError: (error) => logger.warn({ err: error }, "idle database connection failed"),
});
const app = await buildApp({ config, prisma, logger });

/** Resolves after `ms`; unref'd so it never keeps the process alive on its own. */
function deadline(ms: number): Promise<"timeout"> {
  return new Promise((resolve) => setTimeout(() => resolve("timeout"), ms).unref());
}

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    logger.warn({ signal }, "second signal: exiting now");
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal, graceMs: config.SHUTDOWN_GRACE_MS }, "shutting down: draining requests");
  // In-flight requests finish (their transactions commit or roll back); past the grace the rest are cut.
  const drained = await Promise.race([app.close().then(() => "closed" as const), deadline(config.SHUTDOWN_GRACE_MS)]);
  if (drained === "timeout") logger.warn("grace period over: closing with requests still running");
  await Promise.race([prisma.$disconnect(), deadline(2_000)]);
  await telemetry.shutdown().catch((error: unknown) => logger.warn({ err: error }, "telemetry shutdown failed"));
  logger.info("stopped");
  logger.flush();
  process.exit(drained === "timeout" ? 1 : 0);
}

process.on("SIGTERM", (signal) => void shutdown(signal));
process.on("SIGINT", (signal) => void shutdown(signal));

try {
  const address = await app.listen({ host: config.API_HOST, port: config.API_PORT });
  logger.info({ address, docs: `${address}/docs` }, "order API listening");
} catch (error) {
  logger.fatal({ err: error }, "order API failed to start");
  await prisma.$disconnect().catch(() => undefined);
  await telemetry.shutdown().catch(() => undefined);
  process.exit(1);
}
