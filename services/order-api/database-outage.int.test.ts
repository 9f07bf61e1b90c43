import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PrismaClient } from "../shared/db/index.ts";
import {
  cleanTestRows,
  countRows,
  orderBody,
  prepareTestDatabase,
  testApp,
  testConfig,
  testPrisma,
  TEST_DATABASE_URL,
  TEST_PREFIX,
} from "../../test/support/order-api/order-api-harness.ts";
import { TcpProxy } from "../../test/support/order-api/tcp-proxy.ts";

const target = new URL(TEST_DATABASE_URL);
const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });

/** Observes the database directly, never through the proxy. */
let direct: PrismaClient;
/** The app's client, connected through the proxy. */
let proxied: PrismaClient;
let app: FastifyInstance;
/** Set by a test to cut the database in the middle of the order transaction. */
let cutInsideTransaction = false;

beforeAll(async () => {
  direct = testPrisma();
  await prepareTestDatabase(direct);
  const port = await proxy.start();
  const proxiedUrl = new URL(TEST_DATABASE_URL);
  proxiedUrl.port = String(port);
  proxied = testPrisma(proxiedUrl.toString(), { connectTimeoutMs: 1000 });
  const config = testConfig({ DATABASE_URL: proxiedUrl.toString(), DATABASE_CONNECT_TIMEOUT_MS: "1000" });
  app = await testApp({
    prisma: proxied,
    config,
    placeOrderHooks: {
      afterOrderInsert: async () => {
        if (cutInsideTransaction) await proxy.cut();
      },
    },
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await proxied?.$disconnect();
  await proxy.stop();
  await direct?.$disconnect();
});

beforeEach(async () => {
  cutInsideTransaction = false;
  await proxy.restore();
  await cleanTestRows(direct);
});

function post(headers: Record<string, string> = {}) {
  return app.inject({ method: "POST", url: "/orders", payload: orderBody(), headers });
}

function expectOutageProblem(response: Awaited<ReturnType<typeof post>>): void {
  expect(response.statusCode).toBe(503);
  expect(response.headers["retry-after"]).toBe("5");
  expect(response.headers["content-type"]).toContain("application/problem+json");
  expect(response.json()).toMatchObject({ status: 503, code: "DATABASE_UNAVAILABLE", canRetry: true });
  expect(response.body).not.toMatch(/orderflow:orderflow|ECONNREFUSED|"stack"/);
}

/** Bounded: the app must recover by itself, but not necessarily on the very first request. */
async function firstSuccess(): Promise<{ attempts: number; elapsedMs: number }> {
  const startedAt = Date.now();
  for (let attempt = 1; Date.now() - startedAt < 15_000; attempt++) {
    const response = await post();
    if (response.statusCode === 201) return { attempts: attempt, elapsedMs: Date.now() - startedAt };
    expect(response.statusCode).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the API did not recover within 15 s of the database coming back");
}

describe("PostgreSQL outage", () => {
  it("answers 503 problem+json with Retry-After, writes nothing, and recovers without a restart", async () => {
    expect((await post()).statusCode).toBe(201);
    const before = await countRows(direct);

    await proxy.cut();
    expectOutageProblem(await post());
    expectOutageProblem(await post({ "idempotency-key": `${TEST_PREFIX}outage` }));
    expectOutageProblem(await app.inject({ method: "GET", url: "/orders?limit=1" }));
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: "fail", checks: { "database:responseTime": [{ status: "fail" }] } });
    expect((await app.inject({ method: "GET", url: "/livez" })).statusCode).toBe(200);
    expect(await countRows(direct)).toEqual(before);

    await proxy.restore();
    const recovery = await firstSuccess();
    expect(recovery.elapsedMs).toBeLessThan(15_000);
    expect((await post({ "idempotency-key": `${TEST_PREFIX}outage` })).statusCode).toBe(201);
    expect((await app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });

  it("rolls back an order whose connection dies mid-transaction: 503 and no half-written order", async () => {
    expect((await post()).statusCode).toBe(201);
    const before = await countRows(direct);
    cutInsideTransaction = true;
    expectOutageProblem(await post());
    cutInsideTransaction = false;
    expect(await countRows(direct)).toEqual(before);
    await proxy.restore();
    await firstSuccess();
  });

  it("a connection lost during COMMIT says the outcome is unknown; a retry with the same key finds the committed order", async () => {
    const before = await countRows(direct);
    const key = `${TEST_PREFIX}commit-lost`;
    const cut = proxy.cutOnServerMessage(COMMIT_COMPLETE, { forward: false });
    const lost = await post({ "idempotency-key": key });
    await cut;
    expect(lost.statusCode).toBe(503);
    expect(lost.headers["retry-after"]).toBeDefined();
    expect(lost.json()).toMatchObject({ status: 503, code: "ORDER_OUTCOME_UNKNOWN", canRetry: true });
    expect(lost.json().detail).toMatch(/outcome is unknown.*same Idempotency-Key/i);
    expect(lost.body).not.toMatch(/nothing was written/i);
    // The server did commit: the order is there, once.
    expect((await countRows(direct)).orders).toBe(before.orders + 1);

    await proxy.restore();
    const retried = await firstAnswer({ "idempotency-key": key });
    expect(retried.statusCode).toBe(201);
    expect(retried.headers["idempotency-replayed"]).toBe("true");
    expect((await countRows(direct)).orders).toBe(before.orders + 1);
  });

  it("a connection lost right after COMMIT still answers 201 for the committed order", async () => {
    const before = await countRows(direct);
    const cut = proxy.cutOnServerMessage(COMMIT_COMPLETE, { forward: true });
    const placed = await post();
    expect(placed.statusCode).toBe(201);
    expect(await direct.order.count({ where: { id: placed.json().orderId } })).toBe(1);
    expect((await countRows(direct)).orders).toBe(before.orders + 1);
    expectOutageProblem(await post());
    await cut;
  });

  it("with Prefer: wait, a database failure after the commit answers 201 PENDING, never 'nothing was written'", async () => {
    const before = await countRows(direct);
    const cut = proxy.cutOnServerMessage(COMMIT_COMPLETE, { forward: true });
    const placed = await post({ prefer: "wait=2" });
    await cut;
    expect(placed.statusCode).toBe(201);
    expect(placed.json()).toMatchObject({ status: "PENDING" });
    expect(placed.headers["preference-applied"]).toBeUndefined();
    expect(await direct.order.count({ where: { id: placed.json().orderId } })).toBe(1);
    expect((await countRows(direct)).orders).toBe(before.orders + 1);
  });
});

/** PostgreSQL's CommandComplete tag for COMMIT: seen by the proxy when the server has committed. */
const COMMIT_COMPLETE = "COMMIT\u0000";

/** The first non-503 answer once the database is back (bounded). */
async function firstAnswer(headers: Record<string, string>): Promise<Awaited<ReturnType<typeof post>>> {
  const startedAt = Date.now();
  for (;;) {
    const response = await post(headers);
    if (response.statusCode !== 503 || Date.now() - startedAt > 15_000) return response;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
