/**
 * Payment callbacks and Prefer: wait through HTTP on the real stack. The payment service starts late on purpose:
 * a provider callback that arrives before its payment exists is kept and applied once the payment appears.
 * Forged, stale and tampered callbacks are refused with 401; Prefer: wait answers a normal order CONFIRMED.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookHeaders } from "../../services/payment/callbacks/webhook-signature.ts";
import { authorizeKey } from "../../services/payment/provider/payment-gateway.ts";
import { providerPaymentIdFor } from "../../services/payment/provider/simulated-provider.ts";
import { createProducts, placeOrders } from "../support/order-fixtures.ts";
import { Pipeline, pollUntil } from "../support/pipeline.ts";

const SKU = `E2E-HOOK-${randomBytes(3).toString("hex").toUpperCase()}`;
const STOCK = 50;
let pipeline: Pipeline;

function callbackFor(orderId: string, type: "payment.authorized" | "payment.declined"): Record<string, unknown> {
  return {
    id: `evt_${randomBytes(8).toString("hex")}`,
    type,
    created: Math.floor(Date.now() / 1000),
    data: { payment_id: providerPaymentIdFor(authorizeKey(orderId)), ...(type === "payment.declined" ? { reason: "insufficient_funds" } : {}) },
  };
}

async function deliver(body: unknown, headers?: Record<string, string>): Promise<Response> {
  const raw = JSON.stringify(body);
  return pipeline.request("POST", "/payments/webhook", { body: raw, headers: headers ?? webhookHeaders(pipeline.config.PAYMENT_WEBHOOK_SECRET, raw) });
}

async function orderWithWait(orderId: string, seconds: number): Promise<{ status: string; applied: string | null }> {
  const response = await pipeline.request("GET", `/orders/${orderId}`, { headers: { prefer: `wait=${seconds}` } });
  return { status: ((await response.json()) as { status: string }).status, applied: response.headers.get("preference-applied") };
}

async function stockReserved(orderId: string): Promise<void> {
  await pollUntil(
    async () => ((await pipeline.prisma.stockReservation.count({ where: { orderId } })) > 0 ? true : undefined),
    60_000,
    `stock reserved for ${orderId}`,
  );
}

beforeAll(async () => {
  pipeline = await Pipeline.start({ name: "webhook", services: ["order-api", "outbox-relay", "inventory", "order-state", "notification"] });
  await createProducts(pipeline.prisma, [{ sku: SKU, priceMinor: 700, stock: STOCK }]);
});

afterAll(async () => {
  await pipeline?.stop();
});

describe("payment webhooks and Prefer: wait", () => {
  let earlyOrder = "";

  it("keeps a callback that arrives before its payment exists (202), idempotently", async () => {
    earlyOrder = (await placeOrders(pipeline, [{ customerId: `pending-e2e-${SKU}-1`, items: [{ sku: SKU, quantity: 2 }] }], 1))[0]!;
    await stockReserved(earlyOrder);
    const callback = callbackFor(earlyOrder, "payment.authorized");
    const first = await deliver(callback);
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ status: "stored" });
    const again = await deliver(callback);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "duplicate" });
    const stored = await pipeline.prisma.paymentCallback.findMany({ where: { providerPaymentId: providerPaymentIdFor(authorizeKey(earlyOrder)) } });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ paymentId: null, reconciledAt: null });
    expect((await orderWithWait(earlyOrder, 1)).status).toBe("PENDING");
  });

  it("applies it once the payment service creates the (pending) payment: the order is CONFIRMED", async () => {
    await pipeline.startService("payment");
    expect(await orderWithWait(earlyOrder, 30)).toEqual({ status: "CONFIRMED", applied: "wait=30" });
    const payment = await pipeline.prisma.payment.findUniqueOrThrow({ where: { orderId: earlyOrder } });
    expect(payment.status).toBe("AUTHORIZED");
    const callback = await pipeline.prisma.paymentCallback.findFirstOrThrow({ where: { providerPaymentId: payment.providerPaymentId! } });
    expect(callback.paymentId).toBe(payment.id);
    expect(callback.reconciledAt).not.toBeNull();
    expect(await pipeline.prisma.outbox.count({ where: { key: earlyOrder, eventType: "PaymentAuthorized" } })).toBe(1);
  });

  it("a decline callback for a known pending payment cancels the order and releases its stock", async () => {
    const [orderId] = await placeOrders(pipeline, [{ customerId: `pending-e2e-${SKU}-2`, items: [{ sku: SKU, quantity: 3 }] }], 1);
    await pollUntil(async () => (await pipeline.prisma.payment.findUnique({ where: { orderId: orderId! } })) ?? undefined, 60_000, "the pending payment");
    await stockReserved(orderId!);
    const response = await deliver(callbackFor(orderId!, "payment.declined"));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "applied" });
    expect((await orderWithWait(orderId!, 30)).status).toBe("CANCELLED");
    expect(await pipeline.prisma.payment.findUniqueOrThrow({ where: { orderId: orderId! } })).toMatchObject({
      status: "DECLINED",
      declineReason: "insufficient_funds",
    });
    // Compensation: only the confirmed early order's 2 units stay taken.
    await pollUntil(
      async () => ((await pipeline.prisma.stock.findUniqueOrThrow({ where: { sku: SKU } })).available === STOCK - 2 ? true : undefined),
      60_000,
      "stock released",
    );
  });

  it("rejects forged, stale and tampered callbacks with 401 problem+json and changes nothing", async () => {
    const [orderId] = await placeOrders(pipeline, [{ customerId: `pending-e2e-${SKU}-3`, items: [{ sku: SKU, quantity: 1 }] }], 1);
    await pollUntil(async () => (await pipeline.prisma.payment.findUnique({ where: { orderId: orderId! } })) ?? undefined, 60_000, "the pending payment");
    const genuine = callbackFor(orderId!, "payment.declined");
    const raw = JSON.stringify(genuine);
    const now = Math.floor(Date.now() / 1000);
    const forged = await deliver(genuine, webhookHeaders("not-the-provider-secret-0000", raw));
    const stale = await deliver(genuine, webhookHeaders(pipeline.config.PAYMENT_WEBHOOK_SECRET, raw, now - pipeline.config.WEBHOOK_TOLERANCE_SECONDS - 60));
    const unsigned = await deliver(genuine, { "content-type": "application/json" });
    for (const response of [forged, stale, unsigned]) {
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
    }
    expect(await pipeline.prisma.paymentCallback.count({ where: { providerEventId: genuine.id as string } })).toBe(0);

    // The genuine one is accepted; the same event id replayed with another body is refused.
    const authorized = { ...genuine, type: "payment.authorized", data: { payment_id: (genuine.data as { payment_id: string }).payment_id } };
    expect((await deliver(authorized)).status).toBe(200);
    const tampered = await deliver({ ...authorized, type: "payment.declined" });
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toMatchObject({ status: 401, code: "WEBHOOK_UNAUTHORIZED" });
    expect((await orderWithWait(orderId!, 30)).status).toBe("CONFIRMED");
    expect(await pipeline.prisma.outbox.count({ where: { key: orderId!, eventType: { in: ["PaymentAuthorized", "PaymentDeclined"] } } })).toBe(1);
  });

  it("Prefer: wait answers a normal order CONFIRMED within the wait", async () => {
    const startedAt = Date.now();
    const response = await pipeline.request("POST", "/orders", {
      body: { customerId: `e2e-wait-${SKU}`, currency: "EUR", items: [{ sku: SKU, quantity: 1 }] },
      headers: { prefer: "wait=20" },
    });
    const elapsed = Date.now() - startedAt;
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ status: "CONFIRMED" });
    expect(response.headers.get("preference-applied")).toBe("wait=20");
    expect(response.headers.get("vary")).toContain("Prefer");
    expect(response.headers.get("location")).toMatch(/^\/orders\//);
    expect(elapsed).toBeLessThan(20_000);
    console.info(`Prefer: wait=20 answered CONFIRMED after ${elapsed} ms`);
  });
});
