import { canonicalJson } from "../../shared/json/canonical-json.ts";
import type { Prisma, PrismaClient } from "../../shared/db/index.ts";
import { applyCallback, emitterFor } from "./apply-callback.ts";
import type { ProviderCallback } from "./provider-callback.ts";

export type ReceiveOutcome =
  /** Stored and applied to its payment. */
  | { kind: "applied"; callbackId: string }
  /** Stored; its payment is not known yet: the reconciliation job applies it once the payment appears. */
  | { kind: "stored"; callbackId: string }
  /** The same event id with the same body was received before: nothing changes. */
  | { kind: "duplicate"; callbackId: string }
  /** The same event id with another body: a forged or tampered replay. */
  | { kind: "conflict" };

/** Key order does not matter for "the same body" (jsonb does not keep it). */
function sameBody(stored: Prisma.JsonValue, received: ProviderCallback): boolean {
  return canonicalJson(stored) === canonicalJson(received);
}

/**
 * Stores a verified provider callback once per provider event id and applies it when its payment is known,
 * all in one transaction (the callback row, the payment's new status and its outgoing event commit together).
 */
export async function receiveCallback(prisma: PrismaClient, callback: ProviderCallback, options: { timeoutMs: number }): Promise<ReceiveOutcome> {
  return prisma.$transaction(
    async (tx) => {
      const inserted = await tx.paymentCallback.createManyAndReturn({
        data: [{ providerEventId: callback.id, providerPaymentId: callback.data.payment_id, eventType: callback.type, payload: callback as unknown as Prisma.InputJsonValue }],
        skipDuplicates: true,
        select: { id: true, eventType: true, payload: true },
      });
      const row = inserted[0];
      if (!row) {
        const existing = await tx.paymentCallback.findUniqueOrThrow({ where: { providerEventId: callback.id }, select: { id: true, payload: true } });
        return sameBody(existing.payload, callback) ? { kind: "duplicate", callbackId: String(existing.id) } : { kind: "conflict" };
      }
      const payment = await tx.payment.findUnique({ where: { providerPaymentId: callback.data.payment_id } });
      if (!payment) return { kind: "stored", callbackId: String(row.id) };
      await applyCallback(tx, row, payment, emitterFor(tx));
      return { kind: "applied", callbackId: String(row.id) };
    },
    { timeout: options.timeoutMs },
  );
}
