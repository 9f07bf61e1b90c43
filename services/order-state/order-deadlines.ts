/**
 * order_deadlines: one row per PENDING order that waits for its other outcome, written by the consumer when it
 * records the first outcome and removed when the order is decided (by an outcome or by the deadline job in
 * saga-deadline.ts). due_at = the order's created_at + SAGA_PAYMENT_DEADLINE_SECONDS.
 */
import { sql, type SqlExecutor } from "../shared/db/sql.ts";

export interface SagaDeadline {
  /** Seconds after the order was placed. */
  paymentDeadlineSeconds: number;
}

export const DEADLINE_REASON = "payment deadline passed";

/** The order waits for an outcome: its deadline starts (once; from created_at) if it is still PENDING. */
export async function startDeadline(db: SqlExecutor, orderId: string, deadline: SagaDeadline): Promise<void> {
  await db.execute(sql`
    INSERT INTO order_deadlines (order_id, due_at)
    SELECT id, created_at + make_interval(secs => ${deadline.paymentDeadlineSeconds}::int) FROM orders
     WHERE id = ${orderId}::uuid AND status = 'PENDING'
    ON CONFLICT DO NOTHING`);
}

export async function clearDeadline(db: SqlExecutor, orderId: string): Promise<void> {
  await db.execute(sql`DELETE FROM order_deadlines WHERE order_id = ${orderId}::uuid`);
}
