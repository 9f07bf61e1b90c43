/**
 * The orders concern: POST /orders (accept), GET /orders and GET /orders/{id} (reads, behind the read token),
 * GET /products, and Prefer: wait on the two order routes. One Fastify plugin scope, so its hooks (Prefer: wait,
 * read authentication) apply to its routes only.
 */
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { AppConfig } from "../../shared/config/config-schema.ts";
import type { PrismaClient } from "../../shared/db/index.ts";
import { executorOf } from "../../shared/db/sql.ts";
import type { Logger } from "../../shared/logging/create-logger.ts";
import type { Registry } from "../../shared/metrics/metrics-registry.ts";
import { requireBearer } from "../http/bearer-auth.ts";
import type { PoolAdmission } from "../http/load-shedding.ts";
import { OrderStatusWatcher } from "../order-wait/order-status-watcher.ts";
import { registerPreferWait } from "../order-wait/prefer-wait-hook.ts";
import { registerWaiterGauge } from "../order-wait/waiter-metric.ts";
import { CatalogueCache } from "../place-order/catalogue-cache.ts";
import { getOrder, readStatuses } from "../read-orders/read-orders.ts";
import { registerGetOrder } from "../routes/get-order.ts";
import { registerListOrders } from "../routes/list-orders.ts";
import { registerListProducts } from "../routes/list-products.ts";
import { registerPostOrder } from "../routes/post-order.ts";

export interface OrdersPluginOptions {
  config: AppConfig;
  pool: pg.Pool;
  prisma: PrismaClient;
  logger: Logger;
  /** Where the Prefer: wait waiter gauge goes. */
  registry: Registry;
  /** Learns how long an accept holds its connection (for load shedding). */
  admission: PoolAdmission;
}

/** An old-protocol in-flight claim is abandoned once the transaction that held it must have ended. */
function abandonedClaimAfterMs(config: AppConfig): number {
  return Math.max(30_000, 2 * (config.DATABASE_STATEMENT_TIMEOUT_MS + config.DATABASE_CONNECT_TIMEOUT_MS));
}

export async function ordersPlugin(scope: FastifyInstance, options: OrdersPluginOptions): Promise<void> {
  const { config, pool } = options;
  const db = executorOf(pool);
  const watcher = new OrderStatusWatcher({
    databaseUrl: config.DATABASE_URL,
    pollIntervalMs: config.ORDER_WAIT_POLL_INTERVAL_MS,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    maxWaiters: config.ORDER_WAIT_MAX_WAITERS,
    readStatuses: (orderIds) => readStatuses(db, orderIds),
    logger: options.logger,
  });
  const unregisterGauge = registerWaiterGauge(options.registry, watcher);
  scope.addHook("onClose", async () => unregisterGauge());
  // preClose: waiting requests answer at once (with what they have) instead of holding the shutdown.
  scope.addHook("preClose", async () => watcher.close());
  registerPreferWait(scope, { watcher, readOrder: (orderId) => getOrder(db, orderId), maxSeconds: config.PREFER_WAIT_MAX_SECONDS });

  registerPostOrder(scope, {
    idempotencyTtlSeconds: config.IDEMPOTENCY_KEY_TTL_SECONDS,
    abandonedClaimAfterMs: abandonedClaimAfterMs(config),
    placeOrder: {
      pool,
      catalogue: new CatalogueCache(db, config.CATALOGUE_CACHE_TTL_MS),
      onConnectionHeld: (ms) => options.admission.observe(ms),
    },
  });
  const readAuth = requireBearer(config.ORDERS_READ_TOKEN, "orderflow-orders", "ORDERS_READ_TOKEN");
  registerGetOrder(scope, db, readAuth);
  registerListOrders(scope, options.prisma, readAuth);
  registerListProducts(scope, options.prisma);
}
