import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPool, executorOf, type PrismaClient } from "../../shared/db/index.ts";
import {
  cleanTestRows,
  orderBody,
  prepareTestDatabase,
  testApp,
  testPrisma,
  TEST_DATABASE_URL,
  TEST_PREFIX,
} from "../../../test/support/order-api/order-api-harness.ts";
import { AcceptTrap, TRAPPED_CUSTOMER } from "../../../test/support/order-api/accept-trap.ts";
import { purgeExpiredIdempotencyKeys } from "./idempotency-store.ts";
import { requestHash } from "./request-hash.ts";

/** Holds a request inside its accept statement (its rows written, not committed) as long as the test wants. */
let trap: AcceptTrap;

let prisma: PrismaClient;
const pool = createPool(TEST_DATABASE_URL, { poolSize: 2, applicationName: "order-api-test" });
let app: FastifyInstance;
let baseUrl: string;

beforeAll(async () => {
  prisma = testPrisma();
  await prepareTestDatabase(prisma);
  trap = await AcceptTrap.install();
  app = await testApp({ prisma });
  baseUrl = await app.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await app?.close();
  await trap?.uninstall();
  await prisma?.$disconnect();
  await pool.end();
});

beforeEach(async () => {
  await cleanTestRows(prisma);
});

async function post(key: string, body: Record<string, unknown> = orderBody()): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": `"${key}"` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

async function ordersOf(customerId: string): Promise<number> {
  return prisma.order.count({ where: { customerId } });
}

describe("Idempotency-Key", () => {
  it("replays the first answer for the same key and body (key order in the body does not matter)", async () => {
    const key = `${TEST_PREFIX}replay`;
    const first = await post(key);
    expect(first.status).toBe(201);
    const reordered = Object.fromEntries(Object.entries(orderBody()).reverse());
    const second = await post(key, reordered);
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotency-replayed")).toBe("true");
    expect(second.headers.get("location")).toBe(first.headers.get("location"));
    expect(second.body).toEqual(first.body);
    expect(await ordersOf(`${TEST_PREFIX}customer`)).toBe(1);
  });

  it("answers 422 when the key is reused with another body", async () => {
    const key = `${TEST_PREFIX}mismatch`;
    expect((await post(key)).status).toBe(201);
    const other = await post(key, orderBody({ items: [{ sku: "OA-T-WIDGET", quantity: 9 }] }));
    expect(other.status).toBe(422);
    expect(other.headers.get("content-type")).toContain("application/problem+json");
    expect(other.body).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", canRetry: false });
    expect(await ordersOf(`${TEST_PREFIX}customer`)).toBe(1);
  });

  it("a concurrent request with the key waits for the first (the claim is in its statement) and replays its answer", async () => {
    const key = `${TEST_PREFIX}in-flight`;
    const body = orderBody({ customerId: TRAPPED_CUSTOMER.wait });
    await trap.close();
    const first = post(key, body);
    await trap.reached();

    const concurrent = post(key, body);
    await settledOrLockWaiter(concurrent);
    await trap.open();
    const [firstAnswer, concurrentAnswer] = await Promise.all([first, concurrent]);
    expect(firstAnswer.status).toBe(201);
    expect(concurrentAnswer.status).toBe(201);
    expect(concurrentAnswer.headers.get("idempotency-replayed")).toBe("true");
    expect(concurrentAnswer.body.orderId).toBe(firstAnswer.body.orderId);
  });

  it("fences a takeover: an original that finishes after its lease lapsed and a retry came in commits exactly one order", async () => {
    const key = `${TEST_PREFIX}fenced`;
    const customerId = `${TRAPPED_CUSTOMER.wait}-fenced`;
    const body = orderBody({ customerId });
    await trap.close();
    const original = post(key, body);
    await trap.reached();
    // The original is inside its statement (a database brownout); make any lease it holds look expired.
    await prisma.$executeRaw`UPDATE idempotency_keys SET created_at = created_at - interval '1 day' WHERE key = ${key}`;
    const retry = post(key, body);
    await settledOrLockWaiter(retry);
    await trap.open();
    const answers = await Promise.all([original, retry]);

    expect(await ordersOf(customerId)).toBe(1);
    const [orderId] = (await prisma.order.findMany({ where: { customerId }, select: { id: true } })).map((order) => order.id);
    expect(await prisma.outbox.count({ where: { key: String(orderId) } })).toBe(1);
    // The winner answers 201; the loser either replays that same order or is told clearly that the key is taken.
    for (const answer of answers) {
      if (answer.status === 201) expect(answer.body.orderId).toBe(orderId);
      else expect(answer.body).toMatchObject({ code: expect.stringMatching(/^IDEMPOTENCY_KEY_/) });
    }
    expect(answers.filter((answer) => answer.status === 201 && answer.headers.get("idempotency-replayed") !== "true")).toHaveLength(1);
    expect(await prisma.idempotencyKey.findUnique({ where: { key } })).toMatchObject({ status: "COMPLETED", responseStatus: 201 });
  });

  it("lets exactly one of 100 concurrent requests with one key create the order", async () => {
    const key = `${TEST_PREFIX}burst`;
    const customerId = `${TEST_PREFIX}burst-customer`;
    const results = await Promise.all(Array.from({ length: 100 }, () => post(key, orderBody({ customerId }))));
    const statuses = results.map((result) => result.status);
    // 503: shed because the burst queued for the pool (nothing written); the key stays free for a retry.
    expect(statuses.every((status) => status === 201 || status === 409 || status === 503)).toBe(true);
    const created = results.filter((result) => result.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((result) => result.body.orderId)).size).toBe(1);
    expect(results.filter((result) => result.status === 201 && result.headers.get("idempotency-replayed") !== "true")).toHaveLength(1);
    expect(await ordersOf(customerId)).toBe(1);
    expect(await prisma.outbox.count({ where: { key: String(created[0]?.body.orderId) } })).toBe(1);
  });

  it("treats an expired key as absent and purges expired keys", async () => {
    const key = `${TEST_PREFIX}expired`;
    await prisma.idempotencyKey.create({
      data: { key, requestHash: "0".repeat(64), status: "COMPLETED", responseStatus: 201, responseBody: {}, expiresAt: new Date(Date.now() - 1000) },
    });
    const response = await post(key);
    expect(response.status).toBe(201);
    expect(response.headers.get("idempotency-replayed")).toBeNull();

    await prisma.idempotencyKey.create({ data: { key: `${TEST_PREFIX}stale`, requestHash: "0".repeat(64), expiresAt: new Date(Date.now() - 1000) } });
    expect(await purgeExpiredIdempotencyKeys(executorOf(pool))).toBeGreaterThanOrEqual(1);
    expect(await prisma.idempotencyKey.count({ where: { key: `${TEST_PREFIX}stale` } })).toBe(0);
    expect(await prisma.idempotencyKey.count({ where: { key } })).toBe(1);
  });

  it("takes over an in-flight claim abandoned by a crashed attempt instead of answering 409 until expiry", async () => {
    const key = `${TEST_PREFIX}abandoned`;
    await prisma.idempotencyKey.create({
      data: {
        key,
        requestHash: requestHash("POST", "/orders", orderBody()),
        status: "IN_FLIGHT",
        createdAt: new Date(Date.now() - 10 * 60_000),
        expiresAt: new Date(Date.now() + 3_600_000),
      },
    });
    const response = await post(key);
    expect(response.status).toBe(201);
    expect(await prisma.idempotencyKey.findUnique({ where: { key } })).toMatchObject({ status: "COMPLETED", responseStatus: 201 });
  });
});

/** Bounded: until `request` has answered or a session of this database waits on a row lock (the key's; not the trap's advisory lock). */
async function settledOrLockWaiter(request: Promise<unknown>): Promise<void> {
  let settled = false;
  void request.finally(() => (settled = true)).catch(() => undefined);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (settled) return;
    const [row] = await prisma.$queryRaw<{ waiting: bigint }[]>`
      SELECT count(*) AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event <> 'advisory'`;
    if (Number(row?.waiting ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the second request neither answered nor waited on the key within 10 s");
}
