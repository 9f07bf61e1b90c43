/**
 * Shared setup of the order API's integration tests: a migrated test database with fixture products, an app
 * built in-process against it, and row counts/cleanup scoped to the rows these tests create.
 */
import type { FastifyInstance } from "fastify";
import { applyMigrations } from "../../../scripts/db/migrate.ts";
import { seedCatalogue } from "../../../scripts/db/seed.ts";
import type { AppConfig } from "../../../services/shared/config/config-schema.ts";
import { loadConfig } from "../../../services/shared/config/load-config.ts";
import { createPool, createPrisma, type PrismaClient } from "../../../services/shared/db/index.ts";
import { createLogger } from "../../../services/shared/logging/create-logger.ts";
import { buildApp, type AppOptions } from "../../../services/order-api/app.ts";

export const TEST_DATABASE_URL = process.env.DATABASE_URL || "postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow_test";
/** Every customer id and idempotency key these tests create starts with this, so cleanup touches nothing else. */
export const TEST_PREFIX = "oa-test-";

export const FIXTURE_PRODUCTS = [
  { sku: "OA-T-WIDGET", name: "Test widget", priceMinor: 1999n, currency: "EUR", active: true },
  { sku: "OA-T-GADGET", name: "Test gadget", priceMinor: 500n, currency: "EUR", active: true },
  { sku: "OA-T-DOLLAR", name: "Test item priced in USD", priceMinor: 1000n, currency: "USD", active: true },
  { sku: "OA-T-RETIRED", name: "Test item no longer sold", priceMinor: 700n, currency: "EUR", active: false },
] as const;

let migrated: Promise<void> | undefined;

/**
 * Migrates and seeds the demo catalogue once per test file's process, then upserts the fixture products the
 * tests rely on (an inactive one and one in another currency, which the demo catalogue does not have).
 */
export async function prepareTestDatabase(prisma: PrismaClient): Promise<void> {
  migrated ??= applyMigrations(TEST_DATABASE_URL, { log: () => undefined }).then(async () => {
    await seedCatalogue(prisma);
  });
  await migrated;
  for (const product of FIXTURE_PRODUCTS) {
    await prisma.product.upsert({ where: { sku: product.sku }, create: { ...product }, update: { ...product } });
  }
}

export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  return loadConfig({ ...process.env, DATABASE_URL: TEST_DATABASE_URL, LOG_LEVEL: "silent", ...overrides });
}

export function testPrisma(databaseUrl = TEST_DATABASE_URL, overrides: { connectTimeoutMs?: number; poolSize?: number } = {}): PrismaClient {
  return createPrisma(databaseUrl, {
    applicationName: "order-api-test",
    connectTimeoutMs: overrides.connectTimeoutMs ?? 3000,
    poolSize: overrides.poolSize ?? 10,
  });
}

/**
 * The app on `prisma` plus a raw-SQL pool of its own built from `config` (DATABASE_URL, DATABASE_POOL_SIZE,
 * DATABASE_CONNECT_TIMEOUT_MS), closed with the app; production shares one pool between the two.
 */
export async function testApp(options: Partial<AppOptions> & { prisma: PrismaClient; config?: AppConfig }): Promise<FastifyInstance> {
  const config = options.config ?? testConfig();
  const pool =
    options.pool ??
    createPool(config.DATABASE_URL, {
      poolSize: config.DATABASE_POOL_SIZE,
      connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      applicationName: "order-api-test",
    });
  const app = await buildApp({ ...options, config, pool, logger: createLogger({ service: "order-api-test", level: config.LOG_LEVEL }) });
  if (!options.pool) app.addHook("onClose", async () => pool.end().catch(() => undefined));
  return app;
}

export interface RowCounts {
  orders: number;
  orderItems: number;
  statusHistory: number;
  outbox: number;
  idempotencyKeys: number;
}

/** Whole-table counts: int test files run one at a time, so any change is ours. */
export async function countRows(prisma: PrismaClient): Promise<RowCounts> {
  const [orders, orderItems, statusHistory, outbox, idempotencyKeys] = await Promise.all([
    prisma.order.count(),
    prisma.orderItem.count(),
    prisma.orderStatusHistory.count(),
    prisma.outbox.count(),
    prisma.idempotencyKey.count(),
  ]);
  return { orders, orderItems, statusHistory, outbox, idempotencyKeys };
}

/** Deletes what these tests created (orders cascade to items and history). */
export async function cleanTestRows(prisma: PrismaClient): Promise<void> {
  const orders = await prisma.order.findMany({ where: { customerId: { startsWith: TEST_PREFIX } }, select: { id: true } });
  const ids = orders.map((order) => order.id);
  await prisma.outbox.deleteMany({ where: { key: { in: ids } } });
  await prisma.order.deleteMany({ where: { id: { in: ids } } });
  await prisma.idempotencyKey.deleteMany({ where: { key: { startsWith: TEST_PREFIX } } });
}

export function orderBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customerId: `${TEST_PREFIX}customer`,
    currency: "EUR",
    items: [
      { sku: "OA-T-WIDGET", quantity: 2 },
      { sku: "OA-T-GADGET", quantity: 1 },
    ],
    ...overrides,
  };
}
