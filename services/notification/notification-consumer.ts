import type { ConsumerDefinition, EventEnvelope, EventHandler, HandlerContext } from "../shared/consumer/consumer-handler.ts";
import type { OrderCancelledPayload, OrderConfirmedPayload, OrderPlacedPayload } from "../shared/events/event-payloads.ts";
import { sql } from "../shared/db/sql.ts";
import type { NotificationChannel, NotificationKind, OutgoingNotification } from "./notification-channel.ts";

export const NOTIFICATION_GROUP = "notification";

const minorDigitsCache = new Map<string, number>();

/** ISO 4217 minor unit of `currency` (JPY 0, EUR 2, KWD 3) as Intl knows it; 2 for a code Intl rejects. */
export function minorDigits(currency: string): number {
  let digits = minorDigitsCache.get(currency);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    if (minorDigitsCache.size < 500) minorDigitsCache.set(currency, digits);
  }
  return digits;
}

/** Minor units as a decimal amount in integer arithmetic (no float rounding): 12345 KWD -> "12.345 KWD". */
function money(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  const sign = minor < 0 ? "-" : "";
  const units = String(Math.abs(Math.trunc(minor))).padStart(digits + 1, "0");
  const whole = units.slice(0, units.length - digits);
  return `${sign}${digits > 0 ? `${whole}.${units.slice(units.length - digits)}` : whole} ${currency}`;
}

/** The message for each event; pure, so its wording can change without touching delivery. */
export function composeMessage(
  kind: NotificationKind,
  payload: OrderPlacedPayload | OrderConfirmedPayload | OrderCancelledPayload,
): Pick<OutgoingNotification, "subject" | "text"> {
  const order = payload.order_id;
  const total = money(payload.total_minor, payload.currency);
  if (kind === "RECEIPT") return { subject: `We received your order ${order}`, text: `Thank you. Your order of ${total} is being processed.` };
  if (kind === "CONFIRMED") return { subject: `Your order ${order} is confirmed`, text: `Payment of ${total} authorized; your items are reserved.` };
  const reason = "reason" in payload ? payload.reason : "cancelled";
  return { subject: `Your order ${order} was cancelled`, text: `Your order of ${total} was cancelled (${reason}). You have not been charged.` };
}

/**
 * Exactly one notification per event and channel: the row is inserted first (unique (event_id, channel)) inside
 * the runner's transaction, already marked SENT; only when this transaction created it is the channel called,
 * with a key derived from the event. A failed send throws, which rolls the row back (so no SENT row exists for a
 * notification that was not sent) and the runner retries. One statement per notification instead of two.
 */
async function notify(
  channel: NotificationChannel,
  kind: NotificationKind,
  event: EventEnvelope<OrderPlacedPayload | OrderConfirmedPayload | OrderCancelledPayload>,
  ctx: HandlerContext,
): Promise<void> {
  const payload = event.payload;
  const idempotencyKey = `notify:${event.eventId}:${channel.name}`;
  const created = await ctx.db.execute(sql`
    INSERT INTO notifications (order_id, event_id, kind, channel, recipient, idempotency_key, attempts, status, sent_at)
    VALUES (${payload.order_id}::uuid, ${event.eventId}::uuid, ${kind}, ${channel.name}, ${payload.customer_id}, ${idempotencyKey}, 1, 'SENT'::notification_status, now())
    ON CONFLICT DO NOTHING`);
  if (created === 0) {
    ctx.logger.info({ kind }, "notification for this event already exists");
    return;
  }
  await channel.send({ idempotencyKey, orderId: payload.order_id, kind, recipient: payload.customer_id, ...composeMessage(kind, payload) });
}

export function notificationConsumer(channel: NotificationChannel): ConsumerDefinition {
  const on =
    <E extends "OrderPlaced" | "OrderConfirmed" | "OrderCancelled">(kind: NotificationKind): EventHandler<E> =>
    (event, ctx) =>
      notify(channel, kind, event, ctx);
  return {
    group: NOTIFICATION_GROUP,
    topics: ["orders"],
    handlers: { OrderPlaced: on("RECEIPT"), OrderConfirmed: on("CONFIRMED"), OrderCancelled: on("CANCELLED") },
  };
}
