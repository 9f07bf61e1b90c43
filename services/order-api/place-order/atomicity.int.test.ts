import type { FastifyInstance } from "fastify";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPool } from "../../shared/db/index.ts";
import { outboxRow } from "../../shared/outbox/outbox-write.ts";
import { writeAcceptedOrder } from "./accept-write.ts";
import { runAcceptStatement } from "./commit-outcome.ts";
import type { PrismaClient } from "../../shared/db/index.ts";
import {
  cleanTestRows,
  countRows,
  orderBody,
  prepareTestDatabase,
  testApp,
  testPrisma,
  TEST_DATABASE_URL,
  TEST_PREFIX,
} from "../../../test/support/order-api/order-api-harness.ts";
import { AcceptTrap, TRAPPED_CUSTOMER } from "../../../test/support/order-api/accept-trap.ts";

let prisma: PrismaClient;
let app: FastifyInstance;
let trap: AcceptTrap;

beforeAll(async () => {
  prisma = testPrisma();
  await prepareTestDatabase(prisma);
  trap = await AcceptTrap.install();
  app = await testApp({ prisma });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await trap?.uninstall();
  await prisma?.$disconnect();
});

beforeEach(async () => {
  await cleanTestRows(prisma);
});

function post(idempotencyKey: string, customerId: string) {
  return app.inject({ method: "POST", url: "/orders", payload: orderBody({ customerId }), headers: { "idempotency-key": idempotencyKey } });
}

async function placedRows(orderId: string): Promise<{ orders: number; outbox: number }> {
  return { orders: await prisma.order.count({ where: { id: orderId } }), outbox: await prisma.outbox.count({ where: { key: orderId } }) };
}

describe("atomic accept: an order row exists if and only if its OrderPlaced outbox row exists", () => {
  // The accept is one statement: a failure anywhere in it (the trap's trigger on the outbox insert, or a deferred one
  // at its commit, once every row is written) leaves no row of it, and the key free.
  it.each([
    ["while the outbox row is inserted", "fail"],
    ["at commit, after every row was written", "late"],
  ] as const)("a failure %s leaves no row, and frees the idempotency key", async (_name, trapKind) => {
    const before = await countRows(prisma);
    const key = `${TEST_PREFIX}atomic-${trapKind}`;
    const failed = await post(key, TRAPPED_CUSTOMER[trapKind]);

    expect(failed.statusCode).toBe(500);
    expect(failed.headers["content-type"]).toContain("application/problem+json");
    expect(failed.json()).toMatchObject({ status: 500, code: "INTERNAL" });
    expect(failed.body).not.toContain("injected failure");
    expect(await countRows(prisma)).toEqual(before);

    // Had the key survived, another body with it would get 422; it places a new order instead.
    const retried = await post(key, `${TEST_PREFIX}customer`);
    expect(retried.statusCode).toBe(201);
    expect(retried.headers["idempotency-replayed"]).toBeUndefined();
    expect(await placedRows(retried.json().orderId as string)).toEqual({ orders: 1, outbox: 1 });
  });

  it("fails at commit with every row already written by the statement, and none of them stays", async () => {
    const pool = createPool(TEST_DATABASE_URL, { poolSize: 1, applicationName: "atomicity-test" });
    try {
      const orderId = randomUUID();
      const order = {
        orderId,
        customerId: TRAPPED_CUSTOMER.late,
        currency: "EUR",
        totalMinor: 500,
        shippingAddress: null,
        createdAt: new Date(),
        lines: [{ sku: "OA-T-GADGET", quantity: 1, unitPriceMinor: 500, lineTotalMinor: 500 }],
      };
      const outbox = outboxRow("OrderPlaced", orderId, { customer_id: order.customerId, currency: "EUR", total_minor: 500, items: [], shipping_address: null });
      // What the deferred trigger saw when it fired: the statement's own order row and outbox row.
      await expect(runAcceptStatement(pool, (db) => writeAcceptedOrder(db, { order, outbox }))).rejects.toThrow(
        /injected failure at commit: orders=1, outbox=1/,
      );
      expect(await placedRows(orderId)).toEqual({ orders: 0, outbox: 0 });
    } finally {
      await pool.end();
    }
  });
});
