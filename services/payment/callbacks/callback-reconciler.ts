import type { PrismaClient } from "../../shared/db/index.ts";
import type { ServiceExtension } from "../../shared/consumer/run-consumer-service.ts";
import { periodicExtension } from "../../shared/consumer/periodic-extension.ts";
import { prismaExecutor } from "../../shared/consumer/transaction-context.ts";
import { sql } from "../../shared/db/sql.ts";
import { paymentOfProviderId } from "../payment-store.ts";
import { applyCallback, callbackOfRow, emitterFor } from "./apply-callback.ts";

const BATCH_SIZE = 100;

/**
 * One pass: applies stored callbacks whose payment has appeared since they arrived. Rows are locked with SKIP
 * LOCKED, so several payment instances (or the webhook route) never apply one callback twice.
 */
export async function reconcileCallbacksOnce(prisma: PrismaClient, timeoutMs: number): Promise<number> {
  return prisma.$transaction(
    async (tx) => {
      const db = prismaExecutor(tx);
      const due = await db.rows<{ id: string | bigint; event_type: string; payload: unknown; provider_payment_id: string }>(sql`
        SELECT c.id, c.event_type, c.payload, c.provider_payment_id FROM payment_callbacks c
        JOIN payments p ON p.provider_payment_id = c.provider_payment_id
        WHERE c.reconciled_at IS NULL
        ORDER BY c.id
        LIMIT ${BATCH_SIZE}
        FOR UPDATE OF c SKIP LOCKED`);
      for (const row of due) {
        const payment = await paymentOfProviderId(db, row.provider_payment_id);
        if (payment) await applyCallback(db, callbackOfRow(row), payment, emitterFor(db));
      }
      return due.length;
    },
    { timeout: timeoutMs },
  );
}

/** The reconciler as an extension of the payment consumer service (started after the consumer, stopped before it). */
export function callbackReconcilerExtension(): ServiceExtension {
  return periodicExtension("payment-callback-reconciler", (clients) => ({
    intervalMs: clients.config.PAYMENT_RECONCILE_INTERVAL_MS,
    runOnce: () => reconcileCallbacksOnce(clients.prisma, clients.config.CONSUMER_TX_TIMEOUT_MS),
    doneMessage: "reconciled payment callbacks that arrived before their payment",
  }));
}
