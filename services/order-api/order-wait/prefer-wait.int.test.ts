/**
 * Prefer: wait against the real database, without consumers: the status change is made by the test, so this
 * proves the LISTEN/NOTIFY wake-up (the poll fallback is set far beyond the test's bounds) and the timeout path.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanTestRows, orderBody, prepareTestDatabase, testApp, testConfig, testPrisma } from "../test-support/order-api-harness.ts";

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
});
