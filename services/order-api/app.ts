import { randomUUID } from "node:crypto";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type pg from "pg";
import type { AppConfig } from "../shared/config/config-schema.ts";
import type { PrismaClient } from "../shared/db/index.ts";
import { executorOf } from "../shared/db/sql.ts";
import { BadRequestError, ServiceUnavailableError } from "../shared/errors/http-errors.ts";
import type { Logger } from "../shared/logging/create-logger.ts";
import { processRegistry, type Registry } from "../shared/metrics/metrics-registry.ts";
import { currentTraceparent } from "../shared/telemetry/trace-context.ts";
import { databaseCheck, kafkaCheck, schemaRegistryCheck, type DependencyCheck } from "./health/dependency-checks.ts";
import { PoolAdmission, registerLoadShedding } from "./http/load-shedding.ts";
import { registerProblemHandling, sendProblem } from "./http/problem-handler.ts";
import { registerRateLimits } from "./http/rate-limits.ts";
import { createValidatorCompiler } from "./http/validator-compiler.ts";
import { createMonitorService, type MonitorService } from "./monitor/monitor-service.ts";
import { purgeExpiredIdempotencyKeys } from "./place-order/idempotency-store.ts";
import type { PlaceOrderHooks } from "./place-order/place-order.ts";
import { registerAsyncApi } from "./plugins/asyncapi-plugin.ts";
import { consolePlugin } from "./plugins/console-plugin.ts";
import { flightRecorderPlugin } from "./plugins/flight-recorder-plugin.ts";
import { registerObservability } from "./plugins/observability-plugin.ts";
import { ordersPlugin } from "./plugins/orders-plugin.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { problemSchema } from "./routes/order-schemas.ts";
import { registerPaymentWebhook } from "./routes/payment-webhook.ts";

export const SERVICE_NAME = "order-api";
const READINESS_CHECK_TIMEOUT_MS = 1500;
const IDEMPOTENCY_PURGE_INTERVAL_MS = 60_000;

export interface AppOptions {
  config: AppConfig;
  /** The process's one pool (the accept path and the by-id reads use it directly). */
  pool: pg.Pool;
  /** Prisma on the same pool (list reads, products, webhook, monitor). */
  prisma: PrismaClient;
  logger: Logger;
  /** Readiness checks; defaults to the database (required), Kafka and the schema registry (warn only). */
  dependencyChecks?: DependencyCheck[];
  /** Test seam for atomicity: called inside the order transaction. */
  placeOrderHooks?: PlaceOrderHooks;
  /** Prometheus registry; the process-wide one by default. */
  metricsRegistry?: Registry;
  /** Lag monitor sources; built from config (own Kafka admin client + this Prisma) by default. */
  monitor?: MonitorService;
}

function defaultChecks(config: AppConfig, prisma: PrismaClient): DependencyCheck[] {
  return [databaseCheck(prisma), kafkaCheck(config.KAFKA_BROKERS), schemaRegistryCheck(config.SCHEMA_REGISTRY_URL)];
}

async function registerDocs(app: FastifyInstance): Promise<void> {
  app.addSchema(problemSchema);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Orderflow order API", version: "1.0.0", description: "Accepts orders; errors are RFC 9457 application/problem+json." },
      tags: [{ name: "orders" }, { name: "health" }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => (typeof json.$id === "string" ? json.$id : `def-${index}`) },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
}

/** Expired keys are treated as absent at claim time anyway; this keeps the table from growing without bound. */
function schedulePurge(app: FastifyInstance, pool: pg.Pool): void {
  const db = executorOf(pool);
  const timer = setInterval(() => {
    purgeExpiredIdempotencyKeys(db)
      .then((count) => count > 0 && app.log.info({ count }, "purged expired idempotency keys"))
      .catch((error: unknown) => app.log.warn({ err: error }, "idempotency key purge failed"));
  }, IDEMPOTENCY_PURGE_INTERVAL_MS);
  timer.unref();
  app.addHook("onClose", async () => clearInterval(timer));
}

/** Requests arriving during shutdown get a problem+json 503 (Fastify's own would be plain JSON). */
function registerClosingGuard(app: FastifyInstance): () => boolean {
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onRequest", async (request, reply) => {
    if (!closing || request.url === "/livez" || request.url === "/readyz") return;
    reply.header("connection", "close");
    return sendProblem(reply, request, new ServiceUnavailableError({ detail: "The server is shutting down", extensions: { retryAfterSeconds: 1 } }));
  });
  return () => closing;
}

/** Every response names its trace, so a user can find the order's trace in Jaeger. */
function registerTraceparentHeader(app: FastifyInstance): void {
  app.addHook("onSend", async (_request, reply, payload) => {
    const headers = currentTraceparent();
    if (headers) reply.header("traceparent", headers.traceparent);
    return payload;
  });
}

/**
 * pg emits a connection's socket error on the client itself; pg-pool listens only while the client is idle, so an
 * error while a request holds the client (a database cut between two statements) would crash the process. The
 * statement in progress fails on its own; this keeps the event from being an uncaught exception.
 */
function guardCheckedOutClients(pool: pg.Pool, logger: Logger): void {
  pool.on("connect", (client) => {
    client.on("error", (error) => logger.debug({ err: error }, "database connection failed while in use"));
  });
}

/** Cross-cutting HTTP behaviour, before any route: errors, shutdown, rate limits, load shedding, trace header. */
async function registerHttpConcerns(app: FastifyInstance, options: AppOptions, admission: PoolAdmission): Promise<() => boolean> {
  const { config } = options;
  app.setValidatorCompiler(createValidatorCompiler());
  // Only JSON bodies: text/plain would otherwise be parsed and fail later with a less helpful 422.
  app.removeContentTypeParser("text/plain");
  registerProblemHandling(app);
  const isClosing = registerClosingGuard(app);
  await registerRateLimits(app, { max: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS });
  registerLoadShedding(app, admission);
  registerTraceparentHeader(app);
  return isClosing;
}

/**
 * The order API as a Fastify instance, not listening: main.ts listens, tests use inject() or port 0. One plugin
 * (or registration function) per concern: orders, payment webhook, operations (metrics, monitor, live page), health.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, prisma, pool } = options;
  guardCheckedOutClients(pool, options.logger);
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: config.API_BODY_LIMIT_BYTES,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    // One log line per request costs more CPU than the accept itself; errors and rejections are still logged.
    disableRequestLogging: true,
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Errors the router raises before any hook runs (a URL that does not decode, e.g. /orders/%80) get the same
    // problem+json as every other bad request.
    frameworkErrors: (error, request, reply) => sendProblem(reply, request, new BadRequestError({ detail: error.message })),
  });
  const admission = new PoolAdmission(pool, { poolSize: config.DATABASE_POOL_SIZE, queueWaitBudgetMs: config.API_SHED_QUEUE_WAIT_MS, maxWaiting: config.API_SHED_MAX_WAITING });
  const isClosing = await registerHttpConcerns(app, options, admission);
  await registerDocs(app);
  const registry = options.metricsRegistry ?? processRegistry(SERVICE_NAME);

  registerHealthRoutes(app, { serviceId: SERVICE_NAME, checks: options.dependencyChecks ?? defaultChecks(config, prisma), checkTimeoutMs: READINESS_CHECK_TIMEOUT_MS, isClosing });
  const monitor = options.monitor ?? createMonitorService(config, prisma);
  app.addHook("onClose", async () => monitor.close?.());
  registerObservability(app, { config, registry, monitor });
  await app.register(consolePlugin, { config, prisma, registry, monitor });
  registerAsyncApi(app, config);
  await app.register(flightRecorderPlugin, { config, pool, monitor });
  await app.register(ordersPlugin, {
    config,
    pool,
    prisma,
    logger: options.logger,
    placeOrderHooks: options.placeOrderHooks,
    registry,
    admission,
  });
  await registerPaymentWebhook(app, {
    prisma,
    secret: config.PAYMENT_WEBHOOK_SECRET,
    toleranceSeconds: config.WEBHOOK_TOLERANCE_SECONDS,
    transactionTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  });
  schedulePurge(app, pool);
  return app;
}
