import { canonicalJson } from "../../shared/json/canonical-json.ts";
import type { PrismaClient } from "../../shared/db/index.ts";
import { sql, type SqlExecutor } from "../../shared/db/sql.ts";
import { prismaExecutor } from "../../shared/db/prisma-executor.ts";
import { paymentOfProviderId } from "../payment-store.ts";
import { applyCallback, callbackOfRow, emitterFor } from "./apply-callback.ts";
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
function sameBody(stored: unknown, received: ProviderCallback): boolean {
  return canonicalJson(stored) === canonicalJson(received);
}

/**
 * Stores a verified provider callback once per provider event id and applies it when its payment is known, inside
 * the caller's transaction `db` (the callback row, the payment's new status and its outgoing event commit together).
 */
export async function receiveCallbackIn(db: SqlExecutor, callback: ProviderCallback): Promise<ReceiveOutcome> {
  const inserted = await db.rows<{ id: string | bigint; event_type: string; payload: unknown }>(sql`
    INSERT INTO payment_callbacks (provider_event_id, provider_payment_id, event_type, payload)
    VALUES (${callback.id}, ${callback.data.payment_id}, ${callback.type}, ${JSON.stringify(callback)}::jsonb)
    ON CONFLICT (provider_event_id) DO NOTHING
    RETURNING id, event_type, payload`);
  const row = inserted[0];
  if (!row) {
    const existing = await db.rows<{ id: string | bigint; payload: unknown }>(
      sql`SELECT id, payload FROM payment_callbacks WHERE provider_event_id = ${callback.id}`,
    );
    const stored = existing[0];
    if (!stored) throw new Error(`payment callback ${callback.id} conflicted on insert but cannot be read`);
    return sameBody(stored.payload, callback) ? { kind: "duplicate", callbackId: String(stored.id) } : { kind: "conflict" };
  }
  const payment = await paymentOfProviderId(db, callback.data.payment_id);
  if (!payment) return { kind: "stored", callbackId: String(row.id) };
  await applyCallback(db, callbackOfRow(row), payment, emitterFor(db));
  return { kind: "applied", callbackId: String(row.id) };
}

/** receiveCallbackIn in a transaction of its own on `prisma`. */
export async function receiveCallback(prisma: PrismaClient, callback: ProviderCallback, options: { timeoutMs: number }): Promise<ReceiveOutcome> {
  return prisma.$transaction((tx) => receiveCallbackIn(prismaExecutor(tx), callback), { timeout: options.timeoutMs });
}
