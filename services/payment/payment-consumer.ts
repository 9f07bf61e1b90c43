import type { PaymentStatus } from "../shared/db/index.ts";
import type { ConsumerDefinition, EventHandler } from "../shared/consumer/consumer-handler.ts";
import { applyWaitingCallbacks } from "./callbacks/apply-callback.ts";
import { authorizeKey, voidKey, type AuthorizeResult, type PaymentGateway } from "./provider/payment-gateway.ts";

export const PAYMENT_GROUP = "payment";

const STATUS_BY_OUTCOME: Record<AuthorizeResult["outcome"], PaymentStatus> = {
  authorized: "AUTHORIZED",
  declined: "DECLINED",
  pending: "PENDING",
};

/**
 * OrderPlaced -> authorize the total with the provider (idempotency key authorize:<order id>), store the payment
 * and emit PaymentAuthorized / PaymentDeclined. A pending authorization emits nothing yet: its outcome arrives
 * through the webhook. Callbacks that arrived before this payment existed are applied right here.
 */
function onOrderPlaced(gateway: PaymentGateway): EventHandler<"OrderPlaced"> {
  return async (event, ctx) => {
    const order = event.payload;
    const existing = await ctx.tx.payment.findUnique({ where: { orderId: order.order_id }, select: { id: true } });
    if (existing) {
      ctx.logger.info({ payment_id: existing.id }, "order already has a payment; nothing to authorize");
      return;
    }
    const idempotencyKey = authorizeKey(order.order_id);
    const result = await gateway.authorize({
      idempotencyKey,
      orderId: order.order_id,
      customerId: order.customer_id,
      amountMinor: order.total_minor,
      currency: order.currency,
    });
    const payment = await ctx.tx.payment.create({
      data: {
        orderId: order.order_id,
        idempotencyKey,
        providerPaymentId: result.providerPaymentId,
        amountMinor: BigInt(order.total_minor),
        currency: order.currency,
        status: STATUS_BY_OUTCOME[result.outcome],
        declineReason: result.outcome === "declined" ? result.reason : null,
      },
    });
    const money = { payment_id: payment.id, amount_minor: order.total_minor, currency: order.currency };
    if (result.outcome === "authorized") await ctx.emit("PaymentAuthorized", order.order_id, { ...money, provider_reference: result.providerPaymentId });
    if (result.outcome === "declined") await ctx.emit("PaymentDeclined", order.order_id, { ...money, reason: result.reason });
    ctx.logger.info({ payment_id: payment.id, outcome: result.outcome }, "payment authorization answered");
    await applyWaitingCallbacks(ctx.tx, payment, ctx.emit);
  };
}

/** OrderCancelled -> void an authorized (or still pending) payment (idempotency key void:<order id>) -> PaymentVoided. */
function onOrderCancelled(gateway: PaymentGateway): EventHandler<"OrderCancelled"> {
  return async (event, ctx) => {
    const orderId = event.payload.order_id;
    const payment = await ctx.tx.payment.findUnique({ where: { orderId } });
    if (!payment || (payment.status !== "AUTHORIZED" && payment.status !== "PENDING") || !payment.providerPaymentId) {
      ctx.logger.info({ payment_status: payment?.status ?? null }, "nothing to void");
      return;
    }
    await gateway.void({ idempotencyKey: voidKey(orderId), providerPaymentId: payment.providerPaymentId });
    // Guarded: a webhook may have decided a pending payment meanwhile; only one of them wins.
    const voided = await ctx.tx.payment.updateMany({ where: { id: payment.id, status: { in: ["AUTHORIZED", "PENDING"] } }, data: { status: "VOIDED" } });
    if (voided.count === 0) return;
    await ctx.emit("PaymentVoided", orderId, {
      payment_id: payment.id,
      amount_minor: Number(payment.amountMinor),
      currency: payment.currency,
      reason: event.payload.reason,
    });
    ctx.logger.info({ payment_id: payment.id }, "payment voided after cancellation");
  };
}

export function paymentConsumer(gateway: PaymentGateway): ConsumerDefinition {
  return {
    group: PAYMENT_GROUP,
    topics: ["orders"],
    handlers: { OrderPlaced: onOrderPlaced(gateway), OrderCancelled: onOrderCancelled(gateway) },
  };
}
