import type { PaymentStatus } from "../shared/db/index.ts";
import {
  preparedHandler,
  TransientError,
  type ConsumerDefinition,
  type EventEnvelope,
  type PrepareContext,
  type PreparedHandler,
} from "../shared/consumer/consumer-handler.ts";
import { isTombstoned, lockOrder, writeTombstone } from "../shared/consumer/order-tombstones.ts";
import type { OrderPlacedPayload } from "../shared/events/event-payloads.ts";
import { applyWaitingCallbacks } from "./callbacks/apply-callback.ts";
import { insertPayment, movePayment, paymentOfOrder } from "./payment-store.ts";
import { authorizeKey, voidKey, type AuthorizeResult, type PaymentGateway } from "./provider/payment-gateway.ts";

export const PAYMENT_GROUP = "payment";

const STATUS_BY_OUTCOME: Record<AuthorizeResult["outcome"], PaymentStatus> = {
  authorized: "AUTHORIZED",
  declined: "DECLINED",
  pending: "PENDING",
};

/** What prepare() found out before the transaction: nothing to do (and why), or the provider's answer. */
type AuthorizePlan = { kind: "skip"; why: string } | { kind: "answered"; result: AuthorizeResult };
type VoidPlan = { kind: "skip"; why: string } | { kind: "voided"; paymentId: string };

function authorizeRequest(order: OrderPlacedPayload) {
  return {
    idempotencyKey: authorizeKey(order.order_id),
    orderId: order.order_id,
    customerId: order.customer_id,
    amountMinor: order.total_minor,
    currency: order.currency,
  };
}

/**
 * The order ended (tombstone) before its authorization was recorded. A first attempt never called the provider;
 * a retry may follow an attempt whose authorization apply() refused to record: that one is voided (the same
 * idempotency key returns the same provider payment, so nothing new is held).
 */
async function authorizeNothing(gateway: PaymentGateway, event: EventEnvelope<OrderPlacedPayload>, ctx: PrepareContext): Promise<AuthorizePlan> {
  if (ctx.attempt > 1) {
    const earlier = await gateway.authorize(authorizeRequest(event.payload));
    if (earlier.outcome !== "declined") await gateway.void({ idempotencyKey: voidKey(event.orderId), providerPaymentId: earlier.providerPaymentId });
    return { kind: "skip", why: "order ended while it was being authorized; the authorization was voided" };
  }
  return { kind: "skip", why: "order already ended (tombstone); nothing to authorize" };
}

/**
 * OrderPlaced -> authorize the total with the provider (idempotency key authorize:<order id>) before the
 * transaction, then store the payment and emit PaymentAuthorized / PaymentDeclined in it. A pending authorization
 * emits nothing yet: its outcome arrives through the webhook. Callbacks that arrived before this payment existed
 * are applied right here. An order this group saw cancelled (tombstone, checked before the call and again under
 * the order's lock before recording) is never authorized.
 */
function onOrderPlaced(gateway: PaymentGateway): PreparedHandler<"OrderPlaced"> {
  return preparedHandler<"OrderPlaced", AuthorizePlan>(
    async (event, ctx) => {
      const order = event.payload;
      if (await isTombstoned(ctx.db, ctx.group, order.order_id)) return authorizeNothing(gateway, event, ctx);
      if (await paymentOfOrder(ctx.db, order.order_id)) return { kind: "skip", why: "order already has a payment; nothing to authorize" };
      return { kind: "answered", result: await gateway.authorize(authorizeRequest(order)) };
    },
    async (event, ctx, plan) => {
      if (plan.kind === "skip") return ctx.logger.info(plan.why);
      const order = event.payload;
      const { result } = plan;
      await lockOrder(ctx.db, ctx.group, order.order_id);
      if (await isTombstoned(ctx.db, ctx.group, order.order_id)) {
        // The cancel committed while the provider answered: retrying voids this authorization (see authorizeNothing).
        throw new TransientError("the order ended while it was being authorized; the retry voids the authorization", {
          code: "ORDER_ENDED_DURING_AUTHORIZATION",
        });
      }
      const payment = await insertPayment(ctx.db, {
        orderId: order.order_id,
        idempotencyKey: authorizeKey(order.order_id),
        providerPaymentId: result.providerPaymentId,
        amountMinor: order.total_minor,
        currency: order.currency,
        status: STATUS_BY_OUTCOME[result.outcome],
        declineReason: result.outcome === "declined" ? result.reason : null,
      });
      // The unique order_id: a concurrent delivery stored the same provider answer first.
      if (!payment) return ctx.logger.info("order already has a payment; nothing recorded");
      const money = { payment_id: payment.id, amount_minor: order.total_minor, currency: order.currency };
      if (result.outcome === "authorized") await ctx.emit("PaymentAuthorized", order.order_id, { ...money, provider_reference: result.providerPaymentId });
      if (result.outcome === "declined") await ctx.emit("PaymentDeclined", order.order_id, { ...money, reason: result.reason });
      ctx.logger.info({ payment_id: payment.id, outcome: result.outcome }, "payment authorization answered");
      await applyWaitingCallbacks(ctx.db, payment, ctx.emit);
    },
  );
}

const VOIDABLE: readonly PaymentStatus[] = ["AUTHORIZED", "PENDING"];

/**
 * OrderCancelled -> void an authorized (or still pending) payment with the provider (idempotency key
 * void:<order id>) before the transaction, then mark it VOIDED and emit PaymentVoided in it. The tombstone is
 * written either way, so a later OrderPlaced of this order (a replay) authorizes nothing.
 */
function onOrderCancelled(gateway: PaymentGateway): PreparedHandler<"OrderCancelled"> {
  return preparedHandler<"OrderCancelled", VoidPlan>(
    async (event, ctx) => {
      const orderId = event.payload.order_id;
      const payment = await paymentOfOrder(ctx.db, orderId);
      if (!payment || !VOIDABLE.includes(payment.status) || !payment.providerPaymentId)
        return { kind: "skip", why: `nothing to void (payment ${payment?.status ?? "absent"})` };
      await gateway.void({ idempotencyKey: voidKey(orderId), providerPaymentId: payment.providerPaymentId });
      return { kind: "voided", paymentId: payment.id };
    },
    async (event, ctx, plan) => {
      const orderId = event.payload.order_id;
      await lockOrder(ctx.db, ctx.group, orderId);
      await writeTombstone(ctx.db, ctx.group, orderId, event.payload.reason);
      const payment = await paymentOfOrder(ctx.db, orderId);
      if (plan.kind === "skip") {
        // A payment recorded after prepare looked (another transaction, or earlier in this batch) must be voided too.
        if (payment && VOIDABLE.includes(payment.status))
          throw new TransientError("a payment was recorded after the void was planned; the retry voids it", { code: "PAYMENT_APPEARED_DURING_VOID" });
        return ctx.logger.info(plan.why);
      }
      // Guarded: a webhook may have decided a pending payment meanwhile; only one of them wins.
      if (!(await movePayment(ctx.db, plan.paymentId, VOIDABLE, "VOIDED"))) return;
      await ctx.emit("PaymentVoided", orderId, {
        payment_id: plan.paymentId,
        amount_minor: payment?.amountMinor ?? event.payload.total_minor,
        currency: payment?.currency ?? event.payload.currency,
        reason: event.payload.reason,
      });
      ctx.logger.info({ payment_id: plan.paymentId }, "payment voided after cancellation");
    },
  );
}

export function paymentConsumer(gateway: PaymentGateway): ConsumerDefinition {
  return {
    group: PAYMENT_GROUP,
    topics: ["orders"],
    handlers: { OrderPlaced: onOrderPlaced(gateway), OrderCancelled: onOrderCancelled(gateway) },
  };
}
