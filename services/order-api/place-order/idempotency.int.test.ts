import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../shared/db/index.ts";
import { cleanTestRows, orderBody, prepareTestDatabase, testApp, testPrisma, TEST_PREFIX } from "../test-support/order-api-harness.ts";
import { purgeExpiredIdempotencyKeys } from "./idempotency-store.ts";
import { requestHash } from "./request-hash.ts";

/** While set, the order transaction waits on it: the request stays in flight as long as the test wants. */
let gate: Promise<void> | undefined;

let prisma: PrismaClient;
let app: FastifyInstance;
let baseUrl: string;

beforeAll(async () => {
  prisma = testPrisma();
  await prepareTestDatabase(prisma);
  app = await testApp({ prisma, placeOrderHooks: { afterOrderInsert: async () => gate } });
  baseUrl = await app.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await app?.close();
  await prisma?.$disconnect();
});

beforeEach(async () => {
  gate = undefined;
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

  it("answers 409 while the first request is still in flight, then replays it", async () => {
    const key = `${TEST_PREFIX}in-flight`;
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    const first = post(key);
    await waitForClaim(key);

    const concurrent = await post(key);
    expect(concurrent.status).toBe(409);
    expect(concurrent.body).toMatchObject({ code: "IDEMPOTENCY_KEY_IN_FLIGHT", canRetry: true });

    open();
    expect((await first).status).toBe(201);
    const after = await post(key);
    expect(after.status).toBe(201);
    expect(after.headers.get("idempotency-replayed")).toBe("true");
  });

  it("lets exactly one of 100 concurrent requests with one key create the order", async () => {
    const key = `${TEST_PREFIX}burst`;
    const customerId = `${TEST_PREFIX}burst-customer`;
    const results = await Promise.all(Array.from({ length: 100 }, () => post(key, orderBody({ customerId }))));
    const statuses = results.map((result) => result.status);
    expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
    const created = results.filter((result) => result.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((result) => result.body.orderId)).size).toBe(1);
    expect(results.filter((result) => result.status === 201 && result.headers.get("idempotency-replayed") !== "true")).toHaveLength(1);
    expect(await ordersOf(customerId)).toBe(1);
    expect(await prisma.outbox.count({ where: { key: String(created[0]?.body.orderId) } })).toBe(1);
  });

  it("treats an expired key as absent and purges expired keys", async () => {
    const key = `${TEST_PREFIX}expired`;
    await prisma.idempotencyKey.create({ data: { key, requestHash: "0".repeat(64), status: "COMPLETED", responseStatus: 201, responseBody: {}, expiresAt: new Date(Date.now() - 1000) } });
    const response = await post(key);
    expect(response.status).toBe(201);
    expect(response.headers.get("idempotency-replayed")).toBeNull();

    await prisma.idempotencyKey.create({ data: { key: `${TEST_PREFIX}stale`, requestHash: "0".repeat(64), expiresAt: new Date(Date.now() - 1000) } });
    expect(await purgeExpiredIdempotencyKeys(prisma)).toBeGreaterThanOrEqual(1);
    expect(await prisma.idempotencyKey.count({ where: { key: `${TEST_PREFIX}stale` } })).toBe(0);
    expect(await prisma.idempotencyKey.count({ where: { key } })).toBe(1);
  });

  it("takes over an in-flight claim abandoned by a crashed attempt instead of answering 409 until expiry", async () => {
    const key = `${TEST_PREFIX}abandoned`;
    await prisma.idempotencyKey.create({
      data: { key, requestHash: requestHash("POST", "/orders", orderBody()), status: "IN_FLIGHT", createdAt: new Date(Date.now() - 10 * 60_000), expiresAt: new Date(Date.now() + 3_600_000) },
    });
    const response = await post(key);
    expect(response.status).toBe(201);
    expect(await prisma.idempotencyKey.findUnique({ where: { key } })).toMatchObject({ status: "COMPLETED", responseStatus: 201 });
  });
});

/** Bounded poll for the first request's claim row. */
async function waitForClaim(key: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await prisma.idempotencyKey.count({ where: { key, status: "IN_FLIGHT" } })) === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no in-flight claim for ${key} after 10 s`);
}
