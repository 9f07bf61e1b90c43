import type { HandlerContext } from "../shared/consumer/consumer-handler.ts";
import { sql } from "../shared/db/sql.ts";
import type { OrderDecision } from "./order-outcomes.ts";
import { clearDeadline, startDeadline, type SagaDeadline } from "./order-deadlines.ts";
import { processRegistry } from "../shared/metrics/metrics-registry.ts";
import { recordOrderTerminal } from "../shared/metrics/orderflow-metrics.ts";

interface DecidedOrder {
  customer_id: string;
  /** int8: a string from pg, a bigint through Prisma. */
  total_minor: string | bigint;
  currency: string;
  created_at: Date;
}

/** What deciding an order needs: the consumer's HandlerContext or the deadline job's own transaction. */
export type DecisionContext = Pick<HandlerContext, "db" | "emit" | "logger">;

/**
 * Moves a PENDING order to its final state, records the history row and emits OrderConfirmed / OrderCancelled
 * (the latter makes inventory release and payment void). The status guard means a late or repeated outcome can
 * never flip a terminal order: the update then matches no row and nothing is emitted. While the order waits for
 * its other outcome it has a deadline (order-deadlines.ts, saga-deadline.ts); deciding it removes the deadline first, so the deadline
 * job and a consumer always lock deadline row, then order row, in that order.
 */
export async function applyDecision(ctx: DecisionContext, orderId: string, decision: OrderDecision, deadline: SagaDeadline): Promise<void> {
  if (decision.kind === "wait") return startDeadline(ctx.db, orderId, deadline);
  await clearDeadline(ctx.db, orderId);
  const status = decision.kind === "confirm" ? "CONFIRMED" : "CANCELLED";
  const reason = decision.kind === "cancel" ? decision.reason : null;
  // The status change and its history row in one statement (one round trip): the row exists only if the update did.
  const rows = await ctx.db.rows<DecidedOrder>(sql`
    WITH decided AS (
      UPDATE orders SET status = ${status}::order_status, cancel_reason = ${reason}, updated_at = now()
       WHERE id = ${orderId}::uuid AND status = 'PENDING'
      RETURNING id, customer_id, total_minor, currency, created_at)
    , history AS (INSERT INTO order_status_history (order_id, status, reason) SELECT id, ${status}::order_status, ${reason} FROM decided)
    SELECT customer_id, total_minor, currency, created_at FROM decided`);
  const order = rows[0];
  if (!order) {
    ctx.logger.info({ decision: decision.kind }, "order is not PENDING (already decided or unknown); nothing to do");
    return;
  }
  const common = { customer_id: order.customer_id, total_minor: Number(order.total_minor), currency: order.currency };
  if (decision.kind === "confirm") await ctx.emit("OrderConfirmed", orderId, common);
  else await ctx.emit("OrderCancelled", orderId, { ...common, reason: decision.reason });
  recordOrderTerminal(processRegistry("order-state"), status, order.created_at);
  ctx.logger.info({ status, reason }, "order decided");
}
