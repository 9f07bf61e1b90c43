import type { ConsumerDefinition, EventEnvelope, HandlerContext } from "../shared/consumer/consumer-handler.ts";
import type { PaymentAuthorizedPayload, PaymentDeclinedPayload, StockRejectedPayload, StockReservedPayload } from "../shared/events/event-payloads.ts";
import { decide, recordPaymentOutcome, recordStockOutcome } from "./order-outcomes.ts";
import { applyDecision } from "./order-transition.ts";

async function onStockReserved(event: EventEnvelope<StockReservedPayload>, ctx: HandlerContext): Promise<void> {
  await applyDecision(ctx, event.orderId, decide(await recordStockOutcome(ctx.db, event.orderId, "RESERVED", null)));
}

async function onStockRejected(event: EventEnvelope<StockRejectedPayload>, ctx: HandlerContext): Promise<void> {
  await applyDecision(ctx, event.orderId, decide(await recordStockOutcome(ctx.db, event.orderId, "REJECTED", event.payload.reason)));
}

async function onPaymentAuthorized(event: EventEnvelope<PaymentAuthorizedPayload>, ctx: HandlerContext): Promise<void> {
  await applyDecision(ctx, event.orderId, decide(await recordPaymentOutcome(ctx.db, event.orderId, "AUTHORIZED", null)));
}

async function onPaymentDeclined(event: EventEnvelope<PaymentDeclinedPayload>, ctx: HandlerContext): Promise<void> {
  await applyDecision(ctx, event.orderId, decide(await recordPaymentOutcome(ctx.db, event.orderId, "DECLINED", event.payload.reason)));
}

/**
 * Group order-state: stock and payment outcomes, in any arrival order, decide the order. StockReleased and
 * PaymentVoided (compensation results) are not handled and so skipped.
 */
export const orderStateConsumer: ConsumerDefinition = {
  group: "order-state",
  topics: ["inventory", "payments"],
  handlers: {
    StockReserved: onStockReserved,
    StockRejected: onStockRejected,
    PaymentAuthorized: onPaymentAuthorized,
    PaymentDeclined: onPaymentDeclined,
  },
};
