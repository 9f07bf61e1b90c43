import { randomUUID } from "node:crypto";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { AppConfig } from "../shared/config/config-schema.ts";
import type { PrismaClient } from "../shared/db/index.ts";
import { ServiceUnavailableError } from "../shared/errors/http-errors.ts";
import type { Logger } from "../shared/logging/create-logger.ts";
import { currentTraceparent } from "../shared/telemetry/trace-context.ts";
import { databaseCheck, kafkaCheck, schemaRegistryCheck, type DependencyCheck } from "./health/dependency-checks.ts";
import { registerProblemHandling, sendProblem } from "./http/problem-handler.ts";
import { createValidatorCompiler } from "./http/validator-compiler.ts";
import { purgeExpiredIdempotencyKeys } from "./place-order/idempotency-store.ts";
import type { PlaceOrderHooks } from "./place-order/place-order.ts";
import { registerGetOrder } from "./routes/get-order.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerListOrders } from "./routes/list-orders.ts";
import { registerListProducts } from "./routes/list-products.ts";
import { registerPaymentWebhook } from "./routes/payment-webhook.ts";
import { OrderStatusWatcher } from "./order-wait/order-status-watcher.ts";
import { registerPreferWait } from "./order-wait/prefer-wait-hook.ts";
import { problemSchema } from "./routes/order-schemas.ts";
import { registerPostOrder } from "./routes/post-order.ts";
import { processRegistry, type Registry } from "../shared/metrics/metrics-registry.ts";
import { registerHttpMetrics } from "../shared/metrics/fastify-http-metrics.ts";
import { registerOrderPlacedMetric } from "./http/order-placed-metric.ts";
import { createMonitorService, type MonitorService } from "./monitor/monitor-service.ts";
import { registerLivePage } from "./routes/live-page.ts";
import { registerMonitorRoutes } from "./routes/monitor-lag.ts";

export const SERVICE_NAME = "order-api";
const READINESS_CHECK_TIMEOUT_MS = 1500;
const IDEMPOTENCY_PURGE_INTERVAL_MS = 60_000;

export interface AppOptions {
  config: AppConfig;
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

/** /metrics (HTTP latency, orders placed, Kafka/DB-derived backlog gauges), /monitor/*, and the live page at /. */
function registerObservability(app: FastifyInstance, options: AppOptions): void {
  const registry = options.metricsRegistry ?? processRegistry(SERVICE_NAME);
  const monitor = options.monitor ?? createMonitorService(options.config, options.prisma);
  registerHttpMetrics(app, registry, { beforeScrape: () => monitor.refreshGauges(registry) });
  registerOrderPlacedMetric(app, registry);
  registerMonitorRoutes(app, monitor, options.config.MONITOR_TOKEN);
  registerLivePage(app);
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
function schedulePurge(app: FastifyInstance, prisma: PrismaClient): void {
  const timer = setInterval(() => {
    purgeExpiredIdempotencyKeys(prisma)
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

/** The order API as a Fastify instance, not listening: main.ts listens, tests use inject() or port 0. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, prisma } = options;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: config.API_BODY_LIMIT_BYTES,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
  app.setValidatorCompiler(createValidatorCompiler());
  // Only JSON bodies: text/plain would otherwise be parsed and fail later with a less helpful 422.
  app.removeContentTypeParser("text/plain");
  registerProblemHandling(app);
  const isClosing = registerClosingGuard(app);
  registerTraceparentHeader(app);
  const watcher = new OrderStatusWatcher({ databaseUrl: config.DATABASE_URL, pollIntervalMs: config.ORDER_WAIT_POLL_INTERVAL_MS, connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS, logger: options.logger });
  // preClose: waiting requests answer at once (with what they have) instead of holding the shutdown.
  app.addHook("preClose", async () => watcher.close());
  registerPreferWait(app, { prisma, watcher, maxSeconds: config.PREFER_WAIT_MAX_SECONDS });
  await registerDocs(app);

  registerHealthRoutes(app, {
    serviceId: SERVICE_NAME,
    checks: options.dependencyChecks ?? defaultChecks(config, prisma),
    checkTimeoutMs: READINESS_CHECK_TIMEOUT_MS,
    isClosing,
  });
  registerPostOrder(app, {
    idempotencyTtlSeconds: config.IDEMPOTENCY_KEY_TTL_SECONDS,
    placeOrder: {
      prisma,
      transactionTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      transactionMaxWaitMs: config.DATABASE_CONNECT_TIMEOUT_MS,
      hooks: options.placeOrderHooks,
    },
  });
  registerGetOrder(app, prisma);
  registerObservability(app, options);
  registerListOrders(app, prisma);
  registerListProducts(app, prisma);
  await registerPaymentWebhook(app, {
    prisma,
    secret: config.PAYMENT_WEBHOOK_SECRET,
    toleranceSeconds: config.WEBHOOK_TOLERANCE_SECONDS,
    transactionTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  });
  schedulePurge(app, prisma);
  return app;
}
