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
import { AcceptTrap, TRAPPED_CUSTOMER } from "../../test/support/order-api/accept-trap.ts";
import { TcpProxy } from "../../test/support/order-api/tcp-proxy.ts";

const target = new URL(TEST_DATABASE_URL);
const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });

/** Observes the database directly, never through the proxy. */
let direct: PrismaClient;
/** The app's client, connected through the proxy. */
let proxied: PrismaClient;
let app: FastifyInstance;
/** Holds an order inside its accept statement, so a test can cut the connection while it runs. */
let trap: AcceptTrap;

beforeAll(async () => {
  direct = testPrisma();
  await prepareTestDatabase(direct);
  const port = await proxy.start();
  const proxiedUrl = new URL(TEST_DATABASE_URL);
  proxiedUrl.port = String(port);
  proxied = testPrisma(proxiedUrl.toString(), { connectTimeoutMs: 1000 });
  const config = testConfig({ DATABASE_URL: proxiedUrl.toString(), DATABASE_CONNECT_TIMEOUT_MS: "1000" });
  trap = await AcceptTrap.install();
  app = await testApp({ prisma: proxied, config });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await trap?.uninstall();
  await proxied?.$disconnect();
  await proxy.stop();
  await direct?.$disconnect();
});

beforeEach(async () => {
  await proxy.restore();
  await cleanTestRows(direct);
});

function post(headers: Record<string, string> = {}, body = orderBody()) {
  return app.inject({ method: "POST", url: "/orders", payload: body, headers });
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

  it("a connection that dies while the accept statement runs: the outcome is unknown, the order all there or not at all, a retry places it once", async () => {
    const key = `${TEST_PREFIX}cut-mid-statement`;
    const customerId = `${TRAPPED_CUSTOMER.wait}-outage`;
    const body = orderBody({ customerId });
    await trap.close();
    const cutShort = post({ "idempotency-key": key }, body);
    await trap.reached(); // its order rows are written inside the statement, nothing committed
    await proxy.cut();
    const answer = await cutShort;
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toMatchObject({ status: 503, code: "ORDER_OUTCOME_UNKNOWN", canRetry: true });
    expect(answer.body).not.toMatch(/nothing was written/i);
    await trap.open(); // the server finishes the statement or abandons it: either way, all of it or none
    const ordersNow = await direct.order.count({ where: { customerId } });
    expect([0, 1]).toContain(ordersNow);
    const ids = (await direct.order.findMany({ where: { customerId }, select: { id: true } })).map((order) => order.id);
    expect(await direct.outbox.count({ where: { key: { in: ids } } })).toBe(ordersNow);

    await proxy.restore();
    const retried = await firstAnswer({ "idempotency-key": key }, body);
    expect(retried.statusCode).toBe(201);
    expect(await direct.order.count({ where: { customerId } })).toBe(1);
  });

  it("a connection lost as the statement's answer comes back says the outcome is unknown; a retry with the same key finds the committed order", async () => {
    const before = await countRows(direct);
    const key = `${TEST_PREFIX}commit-lost`;
    const cut = proxy.cutOnServerMessage(ACCEPT_ANSWER, { forward: false });
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

  it("a connection lost right after the statement's answer still answers 201 for the committed order", async () => {
    const before = await countRows(direct);
    const cut = proxy.cutOnServerMessage(ACCEPT_ANSWER, { forward: true });
    const placed = await post();
    expect(placed.statusCode).toBe(201);
    expect(await direct.order.count({ where: { id: placed.json().orderId } })).toBe(1);
    expect((await countRows(direct)).orders).toBe(before.orders + 1);
    // The next accept may go out on the pooled connection the cut just reset: if its bytes left, the client cannot
    // know whether they arrived, and must say so rather than "nothing was written". Either way nothing was written.
    const next = await post();
    expect(next.statusCode).toBe(503);
    expect(next.headers["retry-after"]).toBeDefined();
    expect(next.json()).toMatchObject({ status: 503, canRetry: true });
    expect(["DATABASE_UNAVAILABLE", "ORDER_OUTCOME_UNKNOWN"]).toContain(next.json().code);
    expect((await countRows(direct)).orders).toBe(before.orders + 1);
    await cut;
  });

  it("with Prefer: wait, a database failure after the commit answers 201 PENDING, never 'nothing was written'", async () => {
    const before = await countRows(direct);
    const cut = proxy.cutOnServerMessage(ACCEPT_ANSWER, { forward: true });
    const placed = await post({ prefer: "wait=2" });
    await cut;
    expect(placed.statusCode).toBe(201);
    expect(placed.json()).toMatchObject({ status: "PENDING" });
    expect(placed.headers["preference-applied"]).toBeUndefined();
    expect(await direct.order.count({ where: { id: placed.json().orderId } })).toBe(1);
    expect((await countRows(direct)).orders).toBe(before.orders + 1);
  });
});

/**
 * The accept statement's RowDescription (its one column, accepted_order): PostgreSQL buffers a statement's answer
 * and sends it at Sync, once the implicit transaction committed, so the proxy sees it when the server has committed.
 */
const ACCEPT_ANSWER = "accepted_order\u0000";

/** The first non-503 answer once the database is back (bounded). */
async function firstAnswer(headers: Record<string, string>, body = orderBody()): Promise<Awaited<ReturnType<typeof post>>> {
  const startedAt = Date.now();
  for (;;) {
    const response = await post(headers, body);
    if (response.statusCode !== 503 || Date.now() - startedAt > 15_000) return response;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
