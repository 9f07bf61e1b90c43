/**
 * 300 mixed orders through HTTP on the real stack with every service running: fine ones, ones the provider
 * declines (test customers, amount limit) and ones that run out of stock. Every order reaches the right terminal
 * state; stock, reservations, payments and the provider's ledger add up exactly; one notification per event.
 * The provider fails 5% of calls (half of them after acting), so retries and the idempotency ledger are exercised.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizeKey, voidKey } from "../../services/payment/provider/payment-gateway.ts";
import { createProducts, countBy, placeOrders, waitForTerminal, type OrderRequest } from "../support/order-fixtures.ts";
import { Pipeline, pollUntil } from "../support/pipeline.ts";

const tag = randomBytes(3).toString("hex").toUpperCase();
const SKU = { plenty: `E2E-MIX-${tag}-A`, scarce: `E2E-MIX-${tag}-B`, pricey: `E2E-MIX-${tag}-X` };
const PRICE = { plenty: 1000, scarce: 500, pricey: 300_000 };
const SCARCE_STOCK = 30;
const DECLINE_ABOVE_MINOR = 200_000;

type Kind = "fine" | "declinedCustomer" | "overLimit" | "scarce";
const PLAN: Record<Kind, number> = { fine: 180, declinedCustomer: 40, overLimit: 20, scarce: 60 };

function request(kind: Kind, i: number): OrderRequest {
  switch (kind) {
    case "fine":
      return { customerId: `e2e-mix-${tag}-ok-${i}`, items: [{ sku: SKU.plenty, quantity: 1 }] };
    case "declinedCustomer":
      return { customerId: `decline-e2e-mix-${tag}-${i}`, items: [{ sku: SKU.plenty, quantity: 1 }] };
    case "overLimit":
      return { customerId: `e2e-mix-${tag}-limit-${i}`, items: [{ sku: SKU.pricey, quantity: 1 }] };
    case "scarce":
      return { customerId: `e2e-mix-${tag}-scarce-${i}`, items: [{ sku: SKU.scarce, quantity: 1 }] };
  }
}

/** Interleaved so every kind is in flight at the same time. */
function plan(): { kind: Kind; body: OrderRequest }[] {
  const queues = (Object.keys(PLAN) as Kind[]).map((kind) => Array.from({ length: PLAN[kind] }, (_, i) => ({ kind, body: request(kind, i) })));
  const mixed: { kind: Kind; body: OrderRequest }[] = [];
  while (queues.some((q) => q.length > 0)) for (const q of queues) if (q.length > 0) mixed.push(q.shift()!);
  return mixed;
}

let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await Pipeline.start({
    name: "mixed",
    env: { PAYMENT_DECLINE_ABOVE_MINOR: String(DECLINE_ABOVE_MINOR), PAYMENT_TRANSIENT_ERROR_RATE: "0.05" },
  });
  await createProducts(pipeline.prisma, [
    { sku: SKU.plenty, priceMinor: PRICE.plenty, stock: 1000 },
    { sku: SKU.scarce, priceMinor: PRICE.scarce, stock: SCARCE_STOCK },
    { sku: SKU.pricey, priceMinor: PRICE.pricey, stock: 100 },
  ]);
});

afterAll(async () => {
  await pipeline?.stop();
});

describe("300 mixed orders", () => {
  it("each reaches the right terminal state and every effect adds up exactly", async () => {
    const { prisma } = pipeline;
    const orders = plan();
    const startedAt = Date.now();
    const ids = await placeOrders(
      pipeline,
      orders.map((o) => o.body),
      10,
    );
    const kindOf = new Map(ids.map((id, i) => [id, orders[i]!.kind]));
    const acceptedMs = Date.now() - startedAt;

    const statuses = await waitForTerminal(prisma, ids, 240_000);
    const terminalMs = Date.now() - startedAt;
    const outcome = countBy(ids, (id) => `${kindOf.get(id)}:${statuses.get(id)}`);
    expect(outcome).toEqual({
      "fine:CONFIRMED": PLAN.fine,
      "declinedCustomer:CANCELLED": PLAN.declinedCustomer,
      "overLimit:CANCELLED": PLAN.overLimit,
      "scarce:CONFIRMED": SCARCE_STOCK,
      "scarce:CANCELLED": PLAN.scarce - SCARCE_STOCK,
    });
    const confirmed = ids.filter((id) => statuses.get(id) === "CONFIRMED");
    const cancelled = ids.filter((id) => statuses.get(id) === "CANCELLED");

    // Compensation (release, void) and notifications follow the terminal state asynchronously: wait until settled.
    const skus = Object.values(SKU);
    await pollUntil(
      async () => {
        const [held, notifications, unvoided, reserved] = await Promise.all([
          prisma.stock.aggregate({ where: { sku: { in: skus } }, _sum: { reserved: true } }),
          prisma.notification.count({ where: { orderId: { in: ids } } }),
          prisma.payment.count({ where: { orderId: { in: cancelled }, status: "AUTHORIZED" } }),
          prisma.stockReservation.count({ where: { orderId: { in: ids }, status: "RESERVED" } }),
        ]);
        return held._sum.reserved === 0 && notifications === 2 * ids.length && unvoided === 0 && reserved === 0 ? true : undefined;
      },
      120_000,
      "compensation and notifications to settle",
      250,
    );
    const settledMs = Date.now() - startedAt;

    // Stock: only confirmed units left the shelf; nothing is held.
    const stock = new Map((await prisma.stock.findMany({ where: { sku: { in: skus } } })).map((s) => [s.sku, s]));
    expect(stock.get(SKU.plenty)).toMatchObject({ available: 1000 - PLAN.fine, reserved: 0 });
    expect(stock.get(SKU.scarce)).toMatchObject({ available: 0, reserved: 0 });
    expect(stock.get(SKU.pricey)).toMatchObject({ available: 100, reserved: 0 });

    // Reservations: committed exactly for confirmed orders, released for cancelled ones that had stock.
    const reservations = await prisma.stockReservation.findMany({ where: { orderId: { in: ids } } });
    expect(
      countBy(
        reservations.filter((r) => r.status === "COMMITTED"),
        (r) => r.sku,
      ),
    ).toEqual({ [SKU.plenty]: PLAN.fine, [SKU.scarce]: SCARCE_STOCK });
    expect(new Set(reservations.filter((r) => r.status === "COMMITTED").map((r) => r.orderId))).toEqual(new Set(confirmed));
    expect(reservations.filter((r) => r.status === "RELEASED").every((r) => statuses.get(r.orderId) === "CANCELLED")).toBe(true);
    expect(reservations.filter((r) => r.status === "RELEASED").length).toBe(PLAN.declinedCustomer + PLAN.overLimit);

    // Payments: one per order; authorized exactly for confirmed orders and their sum is the confirmed total.
    const payments = await prisma.payment.findMany({ where: { orderId: { in: ids } } });
    expect(payments.length).toBe(ids.length);
    expect(countBy(payments, (p) => `${kindOf.get(p.orderId)}:${p.status}`)).toEqual({
      "fine:AUTHORIZED": PLAN.fine,
      "declinedCustomer:DECLINED": PLAN.declinedCustomer,
      "overLimit:DECLINED": PLAN.overLimit,
      "scarce:AUTHORIZED": SCARCE_STOCK,
      "scarce:VOIDED": PLAN.scarce - SCARCE_STOCK,
    });
    const authorizedSum = payments.filter((p) => p.status === "AUTHORIZED").reduce((sum, p) => sum + p.amountMinor, 0n);
    const confirmedSum = (await prisma.order.aggregate({ where: { id: { in: confirmed } }, _sum: { totalMinor: true } }))._sum.totalMinor;
    expect(authorizedSum).toBe(confirmedSum);
    expect(authorizedSum).toBe(BigInt(PLAN.fine * PRICE.plenty + SCARCE_STOCK * PRICE.scarce));

    // The provider saw exactly one authorization per order and one void per voided payment, retries notwithstanding.
    const ledger = await prisma.providerLedgerEntry.findMany({
      where: { idempotencyKey: { in: [...ids.map(authorizeKey), ...ids.map(voidKey)] } },
      select: { operation: true },
    });
    expect(countBy(ledger, (e) => e.operation)).toEqual({ authorize: ids.length, void: PLAN.scarce - SCARCE_STOCK });

    // Notifications: exactly a receipt and the outcome per order.
    const notifications = await prisma.notification.findMany({ where: { orderId: { in: ids } }, select: { orderId: true, kind: true } });
    const kindsPerOrder = new Map<string, string[]>();
    for (const n of notifications) kindsPerOrder.set(n.orderId, [...(kindsPerOrder.get(n.orderId) ?? []), n.kind].sort());
    for (const id of ids) expect(kindsPerOrder.get(id)).toEqual(["RECEIPT", statuses.get(id)!].sort());

    // Nothing was dead-lettered on the way.
    const failed = await prisma.outbox.count({ where: { key: { in: ids }, failedAt: { not: null } } });
    expect(failed).toBe(0);
    console.info(`300 mixed orders: accepted in ${acceptedMs} ms, all terminal after ${terminalMs} ms, settled after ${settledMs} ms`);
  });
});
