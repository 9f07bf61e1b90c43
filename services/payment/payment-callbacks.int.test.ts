/**
 * The webhook path on the real database, through the order API in-process: signature, replay window, idempotency
 * by provider event id, immediate application to a known pending payment, and reconciliation of a callback that
 * arrived before its payment.
 */
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareTestDatabase, testApp, testConfig, testPrisma } from "../../test/support/order-api/order-api-harness.ts";
import { createPool } from "../shared/db/pool.ts";
import { purgeCallbacks, reconcileCallbacksOnce } from "./callbacks/callback-reconciler.ts";
import { webhookHeaders } from "./callbacks/webhook-signature.ts";
import { authorizeKey } from "./provider/payment-gateway.ts";
import { providerPaymentIdFor } from "./provider/simulated-provider.ts";

const prisma = testPrisma();
// The reconciler runs in the payment service on a plain pool (consumers never load Prisma).
const pool = createPool(testConfig().DATABASE_URL, { poolSize: 2, applicationName: "payment-callbacks-test" });
const config = testConfig();
let app: FastifyInstance;
/** Orders and provider payment ids these tests invented: removed afterwards so no later relay publishes their events. */
const createdOrders: string[] = [];

function callback(providerPaymentId: string, type = "payment.authorized", id = `evt_${randomUUID()}`): Record<string, unknown> {
  return {
    id,
    type,
    created: Math.floor(Date.now() / 1000),
    data: { payment_id: providerPaymentId, ...(type === "payment.declined" ? { reason: "insufficient_funds" } : {}) },
  };
}

async function deliver(body: unknown, headers?: Record<string, string>) {
  const raw = JSON.stringify(body);
  return app.inject({ method: "POST", url: "/payments/webhook", payload: raw, headers: headers ?? webhookHeaders(config.PAYMENT_WEBHOOK_SECRET, raw) });
}

async function pendingPayment(): Promise<{ orderId: string; providerPaymentId: string; paymentId: string }> {
  const orderId = randomUUID();
  createdOrders.push(orderId);
  const providerPaymentId = providerPaymentIdFor(authorizeKey(orderId));
  const payment = await prisma.payment.create({
    data: { orderId, idempotencyKey: authorizeKey(orderId), providerPaymentId, amountMinor: 1234n, currency: "EUR", status: "PENDING" },
  });
  return { orderId, providerPaymentId, paymentId: payment.id };
}

beforeAll(async () => {
  await prepareTestDatabase(prisma);
  app = await testApp({ prisma, config });
});

afterAll(async () => {
  const providerIds = createdOrders.map((orderId) => providerPaymentIdFor(authorizeKey(orderId)));
  await prisma.outbox.deleteMany({ where: { key: { in: createdOrders } } });
  await prisma.paymentCallback.deleteMany({ where: { providerPaymentId: { in: providerIds } } });
  await prisma.payment.deleteMany({ where: { orderId: { in: createdOrders } } });
  await app?.close();
  await prisma.$disconnect();
  await pool.end();
});

describe("POST /payments/webhook", () => {
  it("applies a callback to a known pending payment and emits PaymentAuthorized in the same transaction", async () => {
    const { orderId, providerPaymentId } = await pendingPayment();
    const response = await deliver(callback(providerPaymentId));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: "applied" });
    expect((await prisma.payment.findUniqueOrThrow({ where: { orderId } })).status).toBe("AUTHORIZED");
    const events = await prisma.outbox.findMany({ where: { key: orderId } });
    expect(events.map((e) => e.eventType)).toEqual(["PaymentAuthorized"]);
  });

  it("keeps a callback for an unknown payment and the reconciler applies it once the payment appears", async () => {
    const orderId = randomUUID();
    createdOrders.push(orderId);
    const providerPaymentId = providerPaymentIdFor(authorizeKey(orderId));
    const early = await deliver(callback(providerPaymentId, "payment.declined"));
    expect(early.statusCode).toBe(202);
    expect(early.json()).toMatchObject({ status: "stored" });
    const stored = await prisma.paymentCallback.findFirstOrThrow({ where: { providerPaymentId } });
    expect(stored.reconciledAt).toBeNull();

    await prisma.payment.create({
      data: { orderId, idempotencyKey: authorizeKey(orderId), providerPaymentId, amountMinor: 99n, currency: "EUR", status: "PENDING" },
    });
    expect(await reconcileCallbacksOnce(pool)).toBeGreaterThanOrEqual(1);
    const payment = await prisma.payment.findUniqueOrThrow({ where: { orderId } });
    expect(payment).toMatchObject({ status: "DECLINED", declineReason: "insufficient_funds" });
    expect((await prisma.paymentCallback.findUniqueOrThrow({ where: { id: stored.id } })).paymentId).toBe(payment.id);
    expect((await prisma.outbox.findMany({ where: { key: orderId } })).map((e) => e.eventType)).toEqual(["PaymentDeclined"]);
    // A second pass finds nothing left to do.
    await reconcileCallbacksOnce(pool);
    expect(await prisma.outbox.count({ where: { key: orderId } })).toBe(1);
  });

  it("is idempotent by provider event id; the same id with another body is a 401", async () => {
    const { orderId, providerPaymentId } = await pendingPayment();
    const first = callback(providerPaymentId);
    expect((await deliver(first)).statusCode).toBe(200);
    const again = await deliver(first);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: "duplicate" });
    const tampered = await deliver({ ...first, type: "payment.declined" });
    expect(tampered.statusCode).toBe(401);
    expect(tampered.headers["content-type"]).toContain("application/problem+json");
    expect(await prisma.outbox.count({ where: { key: orderId } })).toBe(1);
    expect(await prisma.paymentCallback.count({ where: { providerPaymentId } })).toBe(1);
  });

  it("rejects forged, stale and unsigned deliveries with 401 problem+json and stores nothing", async () => {
    const { providerPaymentId } = await pendingPayment();
    const body = callback(providerPaymentId);
    const raw = JSON.stringify(body);
    const now = Math.floor(Date.now() / 1000);
    const cases: Record<string, string>[] = [
      webhookHeaders("someone-elses-secret-123", raw),
      webhookHeaders(config.PAYMENT_WEBHOOK_SECRET, raw, now - config.WEBHOOK_TOLERANCE_SECONDS - 5),
      { "content-type": "application/json" },
      { ...webhookHeaders(config.PAYMENT_WEBHOOK_SECRET, raw), "webhook-timestamp": String(now - 1) },
    ];
    for (const headers of cases) {
      const response = await app.inject({ method: "POST", url: "/payments/webhook", payload: raw, headers });
      expect(response.statusCode).toBe(401);
      expect(response.headers["content-type"]).toContain("application/problem+json");
      expect(response.json()).toMatchObject({ status: 401, code: "WEBHOOK_UNAUTHORIZED" });
    }
    expect(await prisma.paymentCallback.count({ where: { providerPaymentId } })).toBe(0);
  });

  it("answers a signed but malformed body with 422 and field pointers", async () => {
    const response = await deliver({ id: "evt_x", type: "payment.refunded", created: 1, data: {} });
    expect(response.statusCode).toBe(422);
    expect(response.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual(["/type", "/data/payment_id"]);
  });

  it("stops rescanning a callback whose payment never appeared (marks it expired) and purges settled callbacks after the retention", async () => {
    const lostOrder = randomUUID();
    createdOrders.push(lostOrder);
    const lost = providerPaymentIdFor(authorizeKey(lostOrder));
    expect((await deliver(callback(lost))).statusCode).toBe(202);
    const stale = await prisma.paymentCallback.findFirstOrThrow({ where: { providerPaymentId: lost } });
    await prisma.paymentCallback.update({ where: { id: stale.id }, data: { receivedAt: new Date(Date.now() - 25 * 3_600_000) } });
    await reconcileCallbacksOnce(pool, 24);
    expect((await prisma.paymentCallback.findUniqueOrThrow({ where: { id: stale.id } })).expiredAt).toBeInstanceOf(Date);

    const { providerPaymentId } = await pendingPayment();
    expect((await deliver(callback(providerPaymentId))).statusCode).toBe(200); // applied: reconciled
    const youngOrder = randomUUID();
    createdOrders.push(youngOrder);
    const young = providerPaymentIdFor(authorizeKey(youngOrder));
    await deliver(callback(young)); // waiting, young: kept
    const monthAgo = new Date(Date.now() - 31 * 24 * 3_600_000);
    await prisma.paymentCallback.updateMany({ where: { providerPaymentId: { in: [lost, providerPaymentId] } }, data: { receivedAt: monthAgo } });
    expect(await purgeCallbacks(pool, 720)).toBeGreaterThanOrEqual(2);
    expect(await prisma.paymentCallback.count({ where: { providerPaymentId: { in: [lost, providerPaymentId] } } })).toBe(0);
    expect(await prisma.paymentCallback.count({ where: { providerPaymentId: young } })).toBe(1);
  });
});
