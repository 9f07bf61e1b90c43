import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../shared/db/index.ts";
import { sql, type SqlExecutor } from "../../shared/db/sql.ts";
import {
  cleanTestRows,
  countRows,
  orderBody,
  prepareTestDatabase,
  testApp,
  testPrisma,
  TEST_PREFIX,
} from "../../../test/support/order-api/order-api-harness.ts";

class InjectedFailure extends Error {}

type Stage = "afterOrderInsert" | "afterOutboxInsert";
let failAt: Stage | undefined;
/** What the transaction itself saw at the failure point: proves the hook really sits between the two inserts. */
let seenInTransaction: { orders: number; outbox: number } | undefined;

async function maybeFail(stage: Stage, db: SqlExecutor, orderId: string): Promise<void> {
  if (failAt !== stage) return;
  const [seen] = await db.rows<{ orders: number; outbox: number }>(sql`
    SELECT (SELECT count(*)::int FROM orders WHERE id = ${orderId}::uuid) AS orders, (SELECT count(*)::int FROM outbox WHERE key = ${orderId}) AS outbox`);
  seenInTransaction = seen;
  throw new InjectedFailure(`injected failure ${stage}`);
}

let prisma: PrismaClient;
let app: FastifyInstance;

beforeAll(async () => {
  prisma = testPrisma();
  await prepareTestDatabase(prisma);
  app = await testApp({
    prisma,
    placeOrderHooks: {
      afterOrderInsert: (tx, orderId) => maybeFail("afterOrderInsert", tx, orderId),
      afterOutboxInsert: (tx, orderId) => maybeFail("afterOutboxInsert", tx, orderId),
    },
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await prisma?.$disconnect();
});

beforeEach(async () => {
  failAt = undefined;
  seenInTransaction = undefined;
  await cleanTestRows(prisma);
});

function post(idempotencyKey: string) {
  return app.inject({ method: "POST", url: "/orders", payload: orderBody(), headers: { "idempotency-key": idempotencyKey } });
}

describe("atomic accept: an order row exists if and only if its OrderPlaced outbox row exists", () => {
  it.each([
    ["between the order insert and the outbox insert", "afterOrderInsert", { orders: 1, outbox: 0 }],
    ["after the outbox insert, before commit", "afterOutboxInsert", { orders: 1, outbox: 1 }],
  ] as const)("a failure %s leaves neither row, and frees the idempotency key", async (_name, stage, seen) => {
    const before = await countRows(prisma);
    failAt = stage;
    const key = `${TEST_PREFIX}atomic-${stage}`;
    const failed = await post(key);

    expect(seenInTransaction).toEqual(seen);
    expect(failed.statusCode).toBe(500);
    expect(failed.headers["content-type"]).toContain("application/problem+json");
    expect(failed.json()).toMatchObject({ status: 500, code: "INTERNAL" });
    expect(failed.body).not.toContain("injected failure");
    expect(await countRows(prisma)).toEqual(before);

    failAt = undefined;
    const retried = await post(key);
    expect(retried.statusCode).toBe(201);
    expect(retried.headers["idempotency-replayed"]).toBeUndefined();
    const orderId = retried.json().orderId as string;
    expect(await prisma.order.count({ where: { id: orderId } })).toBe(1);
    expect(await prisma.outbox.count({ where: { key: orderId } })).toBe(1);
  });
});
