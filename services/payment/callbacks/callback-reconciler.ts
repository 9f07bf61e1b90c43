import type pg from "pg";
import type { ServiceExtension } from "../../shared/consumer/run-consumer-service.ts";
import { periodicExtension } from "../../shared/consumer/periodic-extension.ts";
import { executorOf, inTransaction, sql, type SqlExecutor } from "../../shared/db/sql.ts";
import { paymentOfProviderId } from "../payment-store.ts";
import { applyCallback, callbackOfRow, emitterFor } from "./apply-callback.ts";

const BATCH_SIZE = 100;
const PURGE_BATCH = 1_000;
const MAX_PURGE_BATCHES = 100;

/**
 * Gives up on waiting callbacks older than `expireHours` (their payment never appeared: a provider's stray or
 * test event): marked expired, they leave the reconciler's work list (a partial index), so it stops rescanning
 * them every interval. A payment that still appears later applies them anyway (applyWaitingCallbacks).
 */
async function expireCallbacks(db: SqlExecutor, expireHours: number): Promise<number> {
  return db.execute(sql`
    UPDATE payment_callbacks SET expired_at = now()
     WHERE id IN (SELECT id FROM payment_callbacks
                   WHERE reconciled_at IS NULL AND expired_at IS NULL AND received_at < now() - make_interval(hours => ${expireHours}::int)
                   ORDER BY received_at LIMIT ${BATCH_SIZE}::int
                     FOR UPDATE SKIP LOCKED)`);
}

/**
 * One pass: expires callbacks waited for too long, then applies stored callbacks whose payment has appeared since
 * they arrived. Rows are locked with SKIP LOCKED, so several payment instances (or the webhook route) never apply
 * one callback twice.
 */
export async function reconcileCallbacksOnce(pool: pg.Pool, expireHours = 24): Promise<number> {
  return inTransaction(pool, async (db) => {
    await expireCallbacks(db, expireHours);
    const due = await db.rows<{ id: string | bigint; event_type: string; payload: unknown; provider_payment_id: string }>(sql`
        SELECT c.id, c.event_type, c.payload, c.provider_payment_id FROM payment_callbacks c
        JOIN payments p ON p.provider_payment_id = c.provider_payment_id
        WHERE c.reconciled_at IS NULL AND c.expired_at IS NULL
        ORDER BY c.id
        LIMIT ${BATCH_SIZE}
        FOR UPDATE OF c SKIP LOCKED`);
    for (const row of due) {
      const payment = await paymentOfProviderId(db, row.provider_payment_id);
      if (payment) await applyCallback(db, callbackOfRow(row), payment, emitterFor(db));
    }
    return due.length;
  });
}

/** Retention: deletes reconciled or expired callbacks received more than `retentionHours` ago, in batches. */
export async function purgeCallbacks(pool: pg.Pool, retentionHours: number): Promise<number> {
  const db = executorOf(pool);
  let total = 0;
  for (let batch = 0; batch < MAX_PURGE_BATCHES; batch += 1) {
    const deleted = await db.execute(sql`
      DELETE FROM payment_callbacks
       WHERE id IN (SELECT id FROM payment_callbacks
                     WHERE (reconciled_at IS NOT NULL OR expired_at IS NOT NULL) AND received_at < now() - make_interval(hours => ${retentionHours}::int)
                     ORDER BY received_at LIMIT ${PURGE_BATCH}::int)`);
    total += deleted;
    if (deleted < PURGE_BATCH) break;
  }
  return total;
}

/** Callback retention beside the reconciler. */
export function callbackRetentionExtension(): ServiceExtension {
  return periodicExtension("payment-callback-retention", (clients) => ({
    intervalMs: clients.config.CONSUMER_RETENTION_INTERVAL_MS,
    runOnce: () => purgeCallbacks(clients.pool, clients.config.PAYMENT_CALLBACK_RETENTION_HOURS),
    doneMessage: "payment callback retention removed settled callbacks",
  }));
}

/** The reconciler as an extension of the payment consumer service (started after the consumer, stopped before it). */
export function callbackReconcilerExtension(): ServiceExtension {
  return periodicExtension("payment-callback-reconciler", (clients) => ({
    intervalMs: clients.config.PAYMENT_RECONCILE_INTERVAL_MS,
    runOnce: () => reconcileCallbacksOnce(clients.pool, clients.config.PAYMENT_CALLBACK_EXPIRE_HOURS),
    doneMessage: "reconciled payment callbacks that arrived before their payment",
  }));
}
