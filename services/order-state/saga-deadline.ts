/**
 * The saga's deadline: an order still PENDING SAGA_PAYMENT_DEADLINE_SECONDS after it was placed (its payment
 * left PENDING at the provider, an outcome that never came) is cancelled with reason "payment deadline passed".
 * The OrderCancelled goes through the outbox like any decision, so inventory releases the stock and payment voids
 * the pending payment (and both write their tombstones).
 *
 * Durable: order_deadlines (order-deadlines.ts) holds one row per order that waits for an outcome. The job takes due rows with
 * FOR UPDATE SKIP LOCKED in bounded batches, so several order-state instances never cancel one order twice.
 * Monitors read orders nearing their deadline from order_deadlines (ORDER BY due_at).
 */
import type pg from "pg";
import { inTransaction, sql } from "../shared/db/sql.ts";
import { periodicExtension } from "../shared/consumer/periodic-extension.ts";
import type { ServiceExtension } from "../shared/consumer/run-consumer-service.ts";
import { bufferedEmit } from "../shared/consumer/transaction-context.ts";
import type { Logger } from "../shared/logging/create-logger.ts";
import { insertOutboxRows, type OutboxRow } from "../shared/outbox/outbox-write.ts";
import { context } from "@opentelemetry/api";
import { DEADLINE_REASON, type SagaDeadline } from "./order-deadlines.ts";
import { applyDecision } from "./order-transition.ts";

export interface DeadlinePassOptions {
  batchSize: number;
  logger: Logger;
  deadline: SagaDeadline;
}

/**
 * One pass: cancels up to batchSize orders whose deadline passed, in one transaction; returns how many. The
 * transaction is bounded by the pool's session settings (statement and idle-in-transaction timeouts).
 */
export async function cancelOverdueOrders(pool: pg.Pool, options: DeadlinePassOptions): Promise<number> {
  return inTransaction(pool, async (db) => {
    const due = await db.rows<{ order_id: string }>(sql`
        SELECT order_id FROM order_deadlines WHERE due_at <= now()
         ORDER BY due_at LIMIT ${options.batchSize}::int
           FOR UPDATE SKIP LOCKED`);
    const rows: OutboxRow[] = [];
    const emit = bufferedEmit(rows, context.active());
    for (const { order_id: orderId } of due) {
      await applyDecision(
        { db, emit, logger: options.logger.child({ order_id: orderId }) },
        orderId,
        { kind: "cancel", reason: DEADLINE_REASON },
        options.deadline,
      );
    }
    await insertOutboxRows(db, rows);
    return due.length;
  });
}

/** The deadline job as an extension of the order-state service. */
export function sagaDeadlineExtension(): ServiceExtension {
  return periodicExtension("saga-deadline", (clients) => ({
    intervalMs: clients.config.SAGA_DEADLINE_INTERVAL_MS,
    runOnce: () =>
      cancelOverdueOrders(clients.pool, {
        batchSize: clients.config.SAGA_DEADLINE_BATCH_SIZE,
        logger: clients.logger.child({ job: "saga-deadline" }),
        deadline: { paymentDeadlineSeconds: clients.config.SAGA_PAYMENT_DEADLINE_SECONDS },
      }),
    doneMessage: `cancelled orders whose saga deadline passed (${DEADLINE_REASON})`,
  }));
}
