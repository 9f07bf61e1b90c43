import { context } from "@opentelemetry/api";
import type { HandlerContext } from "../../shared/consumer/consumer-handler.ts";
import { sql, type SqlExecutor } from "../../shared/db/sql.ts";
import type { EventType } from "../../shared/events/topic-catalogue.ts";
import { insertOutboxRows, outboxRow, type OutboxPayload } from "../../shared/outbox/outbox-write.ts";
import { movePayment, type StoredPayment } from "../payment-store.ts";
import type { ProviderCallback } from "./provider-callback.ts";

export type Emit = HandlerContext["emit"];

export interface StoredCallback {
  /** bigserial as text. */
  id: string;
  eventType: string;
  payload: unknown;
}

/** The outbox writer for code outside a consumer (webhook, reconciler): each row written at once, current trace. */
export function emitterFor(db: SqlExecutor): Emit {
  return async <E extends EventType>(eventType: E, orderId: string, payload: OutboxPayload<E>): Promise<string> => {
    const row = outboxRow(eventType, orderId, payload, context.active());
    await insertOutboxRows(db, [row]);
    return row.eventId;
  };
}

function reasonOf(payload: unknown): string {
  const data = (payload as Partial<ProviderCallback> | null)?.data;
  return typeof data?.reason === "string" && data.reason.length > 0 ? data.reason : "declined_by_provider";
}

/**
 * Applies one provider callback to its payment inside `db`'s transaction and marks it reconciled. Only a PENDING
 * payment moves (guarded update), so a late or repeated callback for a payment already decided changes nothing.
 * Returns the new status when the payment moved.
 */
export async function applyCallback(
  db: SqlExecutor,
  callback: StoredCallback,
  payment: StoredPayment,
  emit: Emit,
): Promise<"AUTHORIZED" | "DECLINED" | undefined> {
  let moved: "AUTHORIZED" | "DECLINED" | undefined;
  if (payment.status === "PENDING") {
    const target = callback.eventType === "payment.authorized" ? "AUTHORIZED" : "DECLINED";
    const reason = target === "DECLINED" ? reasonOf(callback.payload) : null;
    if (await movePayment(db, payment.id, ["PENDING"], target, reason)) {
      moved = target;
      const money = { payment_id: payment.id, amount_minor: payment.amountMinor, currency: payment.currency };
      if (target === "AUTHORIZED") await emit("PaymentAuthorized", payment.orderId, { ...money, provider_reference: payment.providerPaymentId });
      else await emit("PaymentDeclined", payment.orderId, { ...money, reason: reason ?? "declined_by_provider" });
    }
  }
  await db.execute(sql`UPDATE payment_callbacks SET payment_id = ${payment.id}::uuid, reconciled_at = now() WHERE id = ${callback.id}::bigint`);
  return moved;
}

interface CallbackRow {
  id: string | bigint;
  event_type: string;
  payload: unknown;
}

export function callbackOfRow(row: CallbackRow): StoredCallback {
  return { id: String(row.id), eventType: row.event_type, payload: row.payload };
}

/** Applies the callbacks already stored for a payment that just appeared (oldest first). */
export async function applyWaitingCallbacks(db: SqlExecutor, payment: StoredPayment, emit: Emit): Promise<number> {
  if (!payment.providerPaymentId) return 0;
  const waiting = await db.rows<CallbackRow>(sql`
    SELECT id, event_type, payload FROM payment_callbacks
     WHERE provider_payment_id = ${payment.providerPaymentId} AND reconciled_at IS NULL
     ORDER BY id`);
  let current = payment;
  for (const row of waiting) {
    const moved = await applyCallback(db, callbackOfRow(row), current, emit);
    if (moved) current = { ...current, status: moved };
  }
  return waiting.length;
}
