import type { ConsumerDefinition, EventEnvelope, HandlerContext } from "../shared/consumer/consumer-handler.ts";
import type { PaymentAuthorizedPayload, PaymentDeclinedPayload, StockRejectedPayload, StockReservedPayload } from "../shared/events/event-payloads.ts";
import { decide, recordPaymentOutcome, recordStockOutcome } from "./order-outcomes.ts";
import { applyDecision } from "./order-transition.ts";
import type { SagaDeadline } from "./order-deadlines.ts";

function onStockReserved(deadline: SagaDeadline) {
  return async (event: EventEnvelope<StockReservedPayload>, ctx: HandlerContext): Promise<void> =>
    applyDecision(ctx, event.orderId, decide(await recordStockOutcome(ctx.db, event.orderId, "RESERVED", null)), deadline);
}

function onStockRejected(deadline: SagaDeadline) {
  return async (event: EventEnvelope<StockRejectedPayload>, ctx: HandlerContext): Promise<void> =>
    applyDecision(ctx, event.orderId, decide(await recordStockOutcome(ctx.db, event.orderId, "REJECTED", event.payload.reason)), deadline);
}

function onPaymentAuthorized(deadline: SagaDeadline) {
  return async (event: EventEnvelope<PaymentAuthorizedPayload>, ctx: HandlerContext): Promise<void> =>
    applyDecision(ctx, event.orderId, decide(await recordPaymentOutcome(ctx.db, event.orderId, "AUTHORIZED", null)), deadline);
}

function onPaymentDeclined(deadline: SagaDeadline) {
  return async (event: EventEnvelope<PaymentDeclinedPayload>, ctx: HandlerContext): Promise<void> =>
    applyDecision(ctx, event.orderId, decide(await recordPaymentOutcome(ctx.db, event.orderId, "DECLINED", event.payload.reason)), deadline);
}

/**
 * Group order-state: stock and payment outcomes, in any arrival order, decide the order; an order still waiting
 * for its other outcome when `deadline` passes is cancelled by the deadline job (order-deadlines.ts, saga-deadline.ts). StockReleased
 * and PaymentVoided (compensation results) are not handled and so skipped.
 */
export function orderStateConsumer(deadline: SagaDeadline): ConsumerDefinition {
  return {
    group: "order-state",
    topics: ["inventory", "payments"],
    handlers: {
      StockReserved: onStockReserved(deadline),
      StockRejected: onStockRejected(deadline),
      PaymentAuthorized: onPaymentAuthorized(deadline),
      PaymentDeclined: onPaymentDeclined(deadline),
    },
  };
}
