import type { ConsumerDefinition, EventEnvelope, HandlerContext } from "../shared/consumer/consumer-handler.ts";
import type { SqlExecutor } from "../shared/db/sql.ts";
import type { PaymentAuthorizedPayload, PaymentDeclinedPayload, StockRejectedPayload, StockReservedPayload } from "../shared/events/event-payloads.ts";
import { decide, recordPaymentOutcome, recordStockOutcome, type OrderOutcomes } from "./order-outcomes.ts";
import { applyDecision } from "./order-transition.ts";
import type { SagaDeadline } from "./order-deadlines.ts";

/** Records one outcome of the event's order and returns all outcomes known so far. */
type RecordOutcome<P> = (db: SqlExecutor, orderId: string, payload: P) => Promise<OrderOutcomes>;

/** A handler that records the event's outcome, then decides the order (or starts its deadline while it waits). */
function decideOn<P>(record: RecordOutcome<P>, deadline: SagaDeadline) {
  return async (event: EventEnvelope<P>, ctx: HandlerContext): Promise<void> =>
    applyDecision(ctx, event.orderId, decide(await record(ctx.db, event.orderId, event.payload)), deadline);
}

/**
 * Group order-state: stock and payment outcomes, in any arrival order, decide the order; an order still waiting
 * for its other outcome when `deadline` passes is cancelled by the deadline job (saga-deadline.ts). StockReleased
 * and PaymentVoided (compensation results) are not handled and so skipped.
 */
export function orderStateConsumer(deadline: SagaDeadline): ConsumerDefinition {
  return {
    group: "order-state",
    topics: ["inventory", "payments"],
    handlers: {
      StockReserved: decideOn<StockReservedPayload>((db, orderId) => recordStockOutcome(db, orderId, "RESERVED", null), deadline),
      StockRejected: decideOn<StockRejectedPayload>((db, orderId, payload) => recordStockOutcome(db, orderId, "REJECTED", payload.reason), deadline),
      PaymentAuthorized: decideOn<PaymentAuthorizedPayload>((db, orderId) => recordPaymentOutcome(db, orderId, "AUTHORIZED", null), deadline),
      PaymentDeclined: decideOn<PaymentDeclinedPayload>((db, orderId, payload) => recordPaymentOutcome(db, orderId, "DECLINED", payload.reason), deadline),
    },
  };
}
