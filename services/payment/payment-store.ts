/**
 * The payments table in plain SQL (the consumer's transaction, the webhook's and the reconciler's): reads,
 * the one insert per order, and the guarded status move that lets only one of two racing deciders win.
 */
import type { PaymentStatus } from "../shared/db/index.ts";
import { raw, sql, type SqlExecutor } from "../shared/db/sql.ts";

export interface StoredPayment {
  id: string;
  orderId: string;
  providerPaymentId: string | null;
  amountMinor: number;
  currency: string;
  status: PaymentStatus;
}

interface PaymentRow {
  id: string;
  order_id: string;
  provider_payment_id: string | null;
  /** int8: a string from pg, a bigint through Prisma; Number() takes both. */
  amount_minor: string | bigint;
  currency: string;
  status: PaymentStatus;
}

const COLUMNS = raw("id, order_id, provider_payment_id, amount_minor, currency, status");

function fromRow(row: PaymentRow): StoredPayment {
  return {
    id: row.id,
    orderId: row.order_id,
    providerPaymentId: row.provider_payment_id,
    amountMinor: Number(row.amount_minor),
    currency: row.currency,
    status: row.status,
  };
}

export async function paymentOfOrder(db: SqlExecutor, orderId: string): Promise<StoredPayment | undefined> {
  const rows = await db.rows<PaymentRow>(sql`SELECT ${COLUMNS} FROM payments WHERE order_id = ${orderId}::uuid`);
  return rows[0] && fromRow(rows[0]);
}

export async function paymentOfProviderId(db: SqlExecutor, providerPaymentId: string): Promise<StoredPayment | undefined> {
  const rows = await db.rows<PaymentRow>(sql`SELECT ${COLUMNS} FROM payments WHERE provider_payment_id = ${providerPaymentId}`);
  return rows[0] && fromRow(rows[0]);
}

export interface NewPayment {
  orderId: string;
  idempotencyKey: string;
  providerPaymentId: string;
  amountMinor: number;
  currency: string;
  status: PaymentStatus;
  declineReason: string | null;
}

/** The order's one payment; undefined when the order has one already (the unique order_id decides). */
export async function insertPayment(db: SqlExecutor, payment: NewPayment): Promise<StoredPayment | undefined> {
  const rows = await db.rows<PaymentRow>(sql`
    INSERT INTO payments (order_id, idempotency_key, provider_payment_id, amount_minor, currency, status, decline_reason)
    VALUES (${payment.orderId}::uuid, ${payment.idempotencyKey}, ${payment.providerPaymentId}, ${payment.amountMinor}::bigint,
            ${payment.currency}, ${payment.status}::payment_status, ${payment.declineReason})
    ON CONFLICT DO NOTHING
    RETURNING ${COLUMNS}`);
  return rows[0] && fromRow(rows[0]);
}

/** Moves the payment to `to` only while its status is one of `from`: true when this call moved it. */
export async function movePayment(
  db: SqlExecutor,
  id: string,
  from: readonly PaymentStatus[],
  to: PaymentStatus,
  declineReason: string | null = null,
): Promise<boolean> {
  const moved = await db.execute(sql`
    UPDATE payments SET status = ${to}::payment_status, decline_reason = COALESCE(${declineReason}, decline_reason), updated_at = now()
     WHERE id = ${id}::uuid AND status = ANY(${[...from]}::payment_status[])`);
  return moved === 1;
}
