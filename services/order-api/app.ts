import { randomUUID } from "node:crypto";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type pg from "pg";
import type { AppConfig } from "../shared/config/config-schema.ts";
import type { PrismaClient } from "../shared/db/index.ts";
import { BadRequestError } from "../shared/errors/http-errors.ts";
import type { Logger } from "../shared/logging/create-logger.ts";
import { processRegistry, type Registry } from "../shared/metrics/metrics-registry.ts";
import { paymentWebhookPlugin } from "../payment/public.ts";
import type { DependencyCheck } from "./health/dependency-checks.ts";
import { PoolAdmission } from "./http/load-shedding.ts";
import { sendProblem } from "./http/problem-handler.ts";
import { createMonitorService, type MonitorService } from "./monitor/monitor-service.ts";
import { asyncApiPlugin } from "./plugins/asyncapi-plugin.ts";
import { consolePlugin } from "./plugins/console-plugin.ts";
import { docsPlugin } from "./plugins/docs-plugin.ts";
import { flightRecorderPlugin } from "./plugins/flight-recorder-plugin.ts";
import { healthPlugin } from "./plugins/health-plugin.ts";
import { ClosingFlag, httpPlugin } from "./plugins/http-plugin.ts";
import { idempotencyPurgePlugin } from "./plugins/idempotency-purge-plugin.ts";
import { observabilityPlugin } from "./plugins/observability-plugin.ts";
import { ordersPlugin } from "./plugins/orders-plugin.ts";

export const SERVICE_NAME = "order-api";

export interface AppOptions {
  config: AppConfig;
  /** The process's one pool (the accept path and the by-id reads use it directly). */
  pool: pg.Pool;
  /** Prisma on the same pool (list reads, products, webhook, monitor). */
  prisma: PrismaClient;
  logger: Logger;
  /** Readiness checks; defaults to the database (required), Kafka and the schema registry (warn only). */
  dependencyChecks?: DependencyCheck[];
  /** Prometheus registry; the process-wide one by default. */
  metricsRegistry?: Registry;
  /** Lag monitor sources; built from config (own Kafka admin client + this Prisma) by default. */
  monitor?: MonitorService;
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

function createFastify(config: AppConfig, logger: Logger): FastifyInstance {
  return Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.API_BODY_LIMIT_BYTES,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    // One log line per request costs more CPU than the accept itself; errors and rejections are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Errors the router raises before any hook runs (a URL that does not decode, e.g. /orders/%80) get the same
    // problem+json as every other bad request.
    frameworkErrors: (error, request, reply) => sendProblem(reply, request, new BadRequestError({ detail: error.message })),
  });
}

/**
 * The order API as a Fastify instance, not listening: main.ts listens, tests use inject() or port 0. One plugin per
 * concern (services/order-api/plugins/, payment's webhook from services/payment/public.ts), registered in order:
 * the cross-cutting ones first (they apply to the root instance, so they see every route), then one line per concern.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, prisma, pool, logger } = options;
  guardCheckedOutClients(pool, logger);
  const app = createFastify(config, logger);
  const admission = new PoolAdmission(pool, {
    poolSize: config.DATABASE_POOL_SIZE,
    queueWaitBudgetMs: config.API_SHED_QUEUE_WAIT_MS,
    maxWaiting: config.API_SHED_MAX_WAITING,
  });
  const closing = new ClosingFlag();
  const registry = options.metricsRegistry ?? processRegistry(SERVICE_NAME);
  const monitor = options.monitor ?? createMonitorService(config, prisma);
  app.addHook("onClose", async () => monitor.close?.());
  const webhook = {
    prisma,
    secret: config.PAYMENT_WEBHOOK_SECRET,
    toleranceSeconds: config.WEBHOOK_TOLERANCE_SECONDS,
    transactionTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  };

  await app.register(httpPlugin, { config, admission, closing });
  await app.register(docsPlugin);
  await app.register(healthPlugin, { serviceId: SERVICE_NAME, config, prisma, checks: options.dependencyChecks, closing });
  await app.register(observabilityPlugin, { config, registry, monitor });
  await app.register(consolePlugin, { config, prisma, registry, monitor });
  await app.register(asyncApiPlugin, { config });
  await app.register(flightRecorderPlugin, { config, pool, monitor });
  await app.register(ordersPlugin, { config, pool, prisma, logger, registry, admission });
  await app.register(paymentWebhookPlugin, webhook);
  await app.register(idempotencyPurgePlugin, { pool });
  return app;
}
