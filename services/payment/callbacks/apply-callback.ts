import { context } from "@opentelemetry/api";
import type { PaymentModel, Prisma } from "../../shared/db/index.ts";
import type { HandlerContext, TransactionClient } from "../../shared/consumer/consumer-handler.ts";
import { createEmitter } from "../../shared/consumer/outbox-emitter.ts";
import type { ProviderCallback } from "./provider-callback.ts";

export type Emit = HandlerContext["emit"];

interface StoredCallback {
  id: bigint;
  eventType: string;
  payload: Prisma.JsonValue;
}

/** The outbox emitter for code outside a consumer (webhook, reconciler): same rows, current trace. */
export function emitterFor(tx: TransactionClient): Emit {
  return createEmitter(tx, context.active());
}

function reasonOf(payload: Prisma.JsonValue): string {
  const data = (payload as Partial<ProviderCallback> | null)?.data;
  return typeof data?.reason === "string" && data.reason.length > 0 ? data.reason : "declined_by_provider";
}

/**
 * Applies one provider callback to its payment inside `tx` and marks it reconciled. Only a PENDING payment moves
 * (guarded update), so a late or repeated callback for a payment already decided changes nothing.
 * Returns the new status when the payment moved.
 */
export async function applyCallback(tx: TransactionClient, callback: StoredCallback, payment: PaymentModel, emit: Emit): Promise<"AUTHORIZED" | "DECLINED" | undefined> {
  let moved: "AUTHORIZED" | "DECLINED" | undefined;
  if (payment.status === "PENDING") {
    const target = callback.eventType === "payment.authorized" ? "AUTHORIZED" : "DECLINED";
    const reason = target === "DECLINED" ? reasonOf(callback.payload) : null;
    const updated = await tx.payment.updateMany({ where: { id: payment.id, status: "PENDING" }, data: { status: target, declineReason: reason } });
    if (updated.count === 1) {
      moved = target;
      const money = { payment_id: payment.id, amount_minor: Number(payment.amountMinor), currency: payment.currency };
      if (target === "AUTHORIZED") await emit("PaymentAuthorized", payment.orderId, { ...money, provider_reference: payment.providerPaymentId });
      else await emit("PaymentDeclined", payment.orderId, { ...money, reason: reason ?? "declined_by_provider" });
    }
  }
  await tx.paymentCallback.update({ where: { id: callback.id }, data: { paymentId: payment.id, reconciledAt: new Date() } });
  return moved;
}

/** Applies the callbacks already stored for a payment that just appeared (oldest first). */
export async function applyWaitingCallbacks(tx: TransactionClient, payment: PaymentModel, emit: Emit): Promise<number> {
  if (!payment.providerPaymentId) return 0;
  const waiting = await tx.paymentCallback.findMany({
    where: { providerPaymentId: payment.providerPaymentId, reconciledAt: null },
    orderBy: { id: "asc" },
    select: { id: true, eventType: true, payload: true },
  });
  let current = payment;
  for (const callback of waiting) {
    const moved = await applyCallback(tx, callback, current, emit);
    if (moved) current = { ...current, status: moved };
  }
  return waiting.length;
}
