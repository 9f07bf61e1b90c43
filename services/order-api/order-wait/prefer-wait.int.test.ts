/**
 * Prefer: wait against the real database, without consumers: the status change is made by the test, so this
 * proves the LISTEN/NOTIFY wake-up (the poll fallback is set far beyond the test's bounds) and the timeout path.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanTestRows, orderBody, prepareTestDatabase, testApp, testConfig, testPrisma } from "../../../test/support/order-api/order-api-harness.ts";

const prisma = testPrisma();
let app: FastifyInstance;

async function placeOrder(headers: Record<string, string> = {}) {
  return app.inject({ method: "POST", url: "/orders", payload: orderBody(), headers });
}

beforeAll(async () => {
  await prepareTestDatabase(prisma);
  app = await testApp({ prisma, config: testConfig({ ORDER_WAIT_POLL_INTERVAL_MS: "10000" }) });
});

afterAll(async () => {
  await cleanTestRows(prisma);
  await app?.close();
  await prisma.$disconnect();
});

describe("Prefer: wait=N", () => {
  it("without the preference answers at once, with Vary: Prefer", async () => {
    const response = await placeOrder();
    expect(response.statusCode).toBe(201);
    expect(response.headers.vary).toContain("Prefer");
    expect(response.headers["preference-applied"]).toBeUndefined();
  });

  it("answers PENDING without Preference-Applied when the order is not final within the wait", async () => {
    const startedAt = Date.now();
    const response = await placeOrder({ prefer: "wait=1" });
    const elapsed = Date.now() - startedAt;
    expect(response.statusCode).toBe(201);
    expect(response.json().status).toBe("PENDING");
    expect(response.headers["preference-applied"]).toBeUndefined();
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(5000);
  });

  it("GET wakes up on the status notification and answers the final state with Preference-Applied", async () => {
    const orderId = (await placeOrder()).json().orderId as string;
    const confirmSoon = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await prisma.order.update({ where: { id: orderId }, data: { status: "CONFIRMED", statusHistory: { create: { status: "CONFIRMED", reason: "test" } } } });
    })();
    const startedAt = Date.now();
    const response = await app.inject({ method: "GET", url: `/orders/${orderId}`, headers: { prefer: "wait=20" } });
    const elapsed = Date.now() - startedAt;
    await confirmSoon;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ orderId, status: "CONFIRMED" });
    expect(response.json().statusHistory.map((h: { status: string }) => h.status)).toEqual(["PENDING", "CONFIRMED"]);
    expect(response.headers["preference-applied"]).toBe("wait=20");
    expect(response.headers.vary).toContain("Prefer");
    // Well below the 10 s poll interval: the NOTIFY woke the waiter.
    expect(elapsed).toBeLessThan(3000);
  });

  it("caps the wait at 30 s and answers a final order at once", async () => {
    const orderId = (await placeOrder()).json().orderId as string;
    await prisma.order.update({ where: { id: orderId }, data: { status: "CANCELLED", cancelReason: "test" } });
    const response = await app.inject({ method: "GET", url: `/orders/${orderId}`, headers: { prefer: "wait=3600" } });
    expect(response.json().status).toBe("CANCELLED");
    expect(response.headers["preference-applied"]).toBe("wait=30");
  });

  it("bounds the waiters: past ORDER_WAIT_MAX_WAITERS a request answers at once (PENDING, no Preference-Applied); all share one listener", async () => {
    const bounded = await testApp({ prisma, config: testConfig({ ORDER_WAIT_POLL_INTERVAL_MS: "10000", ORDER_WAIT_MAX_WAITERS: "2" }) });
    try {
      const orderId = (await bounded.inject({ method: "POST", url: "/orders", payload: orderBody() })).json().orderId as string;
      const listenersBefore = await waitListeners();
      const waiting = [1, 2].map(() => bounded.inject({ method: "GET", url: `/orders/${orderId}`, headers: { prefer: "wait=20" } }));
      await waitForGauge(bounded, "order_api_prefer_waiters", 2);
      expect(await waitListeners()).toBe(listenersBefore + 1);

      const startedAt = Date.now();
      const overflow = await bounded.inject({ method: "GET", url: `/orders/${orderId}`, headers: { prefer: "wait=20" } });
      expect(Date.now() - startedAt).toBeLessThan(2_000);
      expect(overflow.statusCode).toBe(200);
      expect(overflow.json().status).toBe("PENDING");
      expect(overflow.headers["preference-applied"]).toBeUndefined();

      await prisma.order.update({ where: { id: orderId }, data: { status: "CONFIRMED", statusHistory: { create: { status: "CONFIRMED", reason: "test" } } } });
      for (const response of await Promise.all(waiting)) {
        expect(response.json().status).toBe("CONFIRMED");
        expect(response.headers["preference-applied"]).toBe("wait=20");
      }
    } finally {
      await bounded.close();
    }
  });
});

/** LISTEN connections of order APIs on this database. */
async function waitListeners(): Promise<number> {
  const [row] = await prisma.$queryRaw<
    { n: bigint }[]
  >`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'order-api-wait'`;
  return Number(row?.n ?? 0);
}

/** Bounded poll of a gauge on /metrics until it reads `value`. */
async function waitForGauge(target: FastifyInstance, name: string, value: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const text = (await target.inject({ method: "GET", url: "/metrics" })).body;
    if (new RegExp(`^${name}(\\{[^}]*\\})? ${value}$`, "m").test(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${name} did not reach ${value} within 5 s`);
}
