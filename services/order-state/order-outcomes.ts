import { sql, type SqlExecutor } from "../shared/db/sql.ts";

export type StockOutcome = "RESERVED" | "REJECTED";
export type PaymentOutcome = "AUTHORIZED" | "DECLINED";

/** What order-state knows about one order so far. */
export interface OrderOutcomes {
  stockStatus: StockOutcome | null;
  stockReason: string | null;
  paymentStatus: PaymentOutcome | null;
  paymentReason: string | null;
}

interface OutcomeRow {
  stock_status: StockOutcome | null;
  stock_reason: string | null;
  payment_status: PaymentOutcome | null;
  payment_reason: string | null;
}

function fromRow(row: OutcomeRow | undefined): OrderOutcomes {
  if (!row) throw new Error("upsert of order_outcomes returned no row");
  return { stockStatus: row.stock_status, stockReason: row.stock_reason, paymentStatus: row.payment_status, paymentReason: row.payment_reason };
}

/*
 * Both upserts lock the order's row: when the stock and the payment outcome of one order are processed at the same
 * time (they come from different topics, so different partitions), the second waits for the first to commit and
 * then returns both outcomes. Exactly one of them therefore sees the order decided.
 */

export async function recordStockOutcome(db: SqlExecutor, orderId: string, status: StockOutcome, reason: string | null): Promise<OrderOutcomes> {
  const rows = await db.rows<OutcomeRow>(sql`
    INSERT INTO order_outcomes (order_id, stock_status, stock_reason) VALUES (${orderId}::uuid, ${status}, ${reason})
    ON CONFLICT (order_id) DO UPDATE SET stock_status = EXCLUDED.stock_status, stock_reason = EXCLUDED.stock_reason, updated_at = now()
    RETURNING stock_status, stock_reason, payment_status, payment_reason`);
  return fromRow(rows[0]);
}

export async function recordPaymentOutcome(db: SqlExecutor, orderId: string, status: PaymentOutcome, reason: string | null): Promise<OrderOutcomes> {
  const rows = await db.rows<OutcomeRow>(sql`
    INSERT INTO order_outcomes (order_id, payment_status, payment_reason) VALUES (${orderId}::uuid, ${status}, ${reason})
    ON CONFLICT (order_id) DO UPDATE SET payment_status = EXCLUDED.payment_status, payment_reason = EXCLUDED.payment_reason, updated_at = now()
    RETURNING stock_status, stock_reason, payment_status, payment_reason`);
  return fromRow(rows[0]);
}

export type OrderDecision = { kind: "confirm" } | { kind: "cancel"; reason: string } | { kind: "wait" };

/** Either failure cancels at once (no need to wait for the other outcome); both successes confirm. */
export function decide(outcomes: OrderOutcomes): OrderDecision {
  if (outcomes.stockStatus === "REJECTED") return { kind: "cancel", reason: `stock rejected: ${outcomes.stockReason ?? "no reason given"}` };
  if (outcomes.paymentStatus === "DECLINED") return { kind: "cancel", reason: `payment declined: ${outcomes.paymentReason ?? "no reason given"}` };
  if (outcomes.stockStatus === "RESERVED" && outcomes.paymentStatus === "AUTHORIZED") return { kind: "confirm" };
  return { kind: "wait" };
}
