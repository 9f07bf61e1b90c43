import type { HandlerContext } from "../shared/consumer/consumer-handler.ts";
import { sql } from "../shared/db/sql.ts";
import type { OrderDecision } from "./order-outcomes.ts";
import { processRegistry } from "../shared/metrics/metrics-registry.ts";
import { recordOrderTerminal } from "../shared/metrics/orderflow-metrics.ts";

interface DecidedOrder {
  customer_id: string;
  /** int8: a string from pg, a bigint through Prisma. */
  total_minor: string | bigint;
  currency: string;
  created_at: Date;
}

/**
 * Moves a PENDING order to its final state, records the history row and emits OrderConfirmed / OrderCancelled
 * (the latter makes inventory release and payment void). The status guard means a late or repeated outcome can
 * never flip a terminal order: the update then matches no row and nothing is emitted.
 */
export async function applyDecision(ctx: HandlerContext, orderId: string, decision: OrderDecision): Promise<void> {
  if (decision.kind === "wait") return;
  const status = decision.kind === "confirm" ? "CONFIRMED" : "CANCELLED";
  const reason = decision.kind === "cancel" ? decision.reason : null;
  const rows = await ctx.db.rows<DecidedOrder>(sql`
    UPDATE orders SET status = ${status}::order_status, cancel_reason = ${reason}, updated_at = now()
     WHERE id = ${orderId}::uuid AND status = 'PENDING'
    RETURNING customer_id, total_minor, currency, created_at`);
  const order = rows[0];
  if (!order) {
    ctx.logger.info({ decision: decision.kind }, "order is not PENDING (already decided or unknown); nothing to do");
    return;
  }
  await ctx.db.execute(sql`INSERT INTO order_status_history (order_id, status, reason) VALUES (${orderId}::uuid, ${status}::order_status, ${reason})`);
  const common = { customer_id: order.customer_id, total_minor: Number(order.total_minor), currency: order.currency };
  if (decision.kind === "confirm") await ctx.emit("OrderConfirmed", orderId, common);
  else await ctx.emit("OrderCancelled", orderId, { ...common, reason: decision.reason });
  recordOrderTerminal(processRegistry("order-state"), status, order.created_at);
  ctx.logger.info({ status, reason }, "order decided");
}
