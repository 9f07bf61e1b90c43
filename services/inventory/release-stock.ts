import type { OrderCancelledPayload, OrderConfirmedPayload, StockLine } from "../shared/events/event-payloads.ts";
import type { EventEnvelope, HandlerContext } from "../shared/consumer/consumer-handler.ts";
import { sql, type SqlExecutor } from "../shared/db/sql.ts";
import { lockOrder, writeTombstone } from "../shared/consumer/order-tombstones.ts";

/**
 * Moves the order's RESERVED reservations to `to` and returns their lines. The status guard makes a second
 * cancel or confirm of the same order a no-op (nothing is released or committed twice).
 */
async function closeReservations(db: SqlExecutor, orderId: string, to: "RELEASED" | "COMMITTED"): Promise<StockLine[]> {
  const rows = await db.rows<StockLine>(sql`
    UPDATE stock_reservations SET status = ${to}::reservation_status, updated_at = now()
     WHERE order_id = ${orderId}::uuid AND status = 'RESERVED'
    RETURNING sku, quantity`);
  return rows.map((row) => ({ sku: row.sku, quantity: Number(row.quantity) })).sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/**
 * Applies `lines` to the stock rows: reserved -= quantity, and back to available on a release. One statement per
 * line in SKU order, like the reservation's, so concurrent orders lock stock rows in one order (no deadlock).
 */
async function settleStock(db: SqlExecutor, lines: readonly StockLine[], returnToAvailable: boolean): Promise<void> {
  const back = returnToAvailable ? 1 : 0;
  for (const line of lines) {
    await db.execute(sql`
      UPDATE stock SET available = available + ${line.quantity * back}::int, reserved = reserved - ${line.quantity}::int, updated_at = now()
       WHERE sku = ${line.sku}`);
  }
}

/**
 * OrderCancelled: the reserved units go back to available, once; StockReleased when there was anything to release.
 * The tombstone is written either way, so an OrderPlaced that arrives later (a replay) reserves nothing.
 */
export async function releaseStock(event: EventEnvelope<OrderCancelledPayload>, ctx: HandlerContext): Promise<void> {
  await lockOrder(ctx.db, ctx.group, event.orderId);
  await writeTombstone(ctx.db, ctx.group, event.orderId, event.payload.reason);
  const lines = await closeReservations(ctx.db, event.orderId, "RELEASED");
  if (lines.length === 0) return;
  await settleStock(ctx.db, lines, true);
  await ctx.emit("StockReleased", event.orderId, { reservation_id: event.orderId, reason: event.payload.reason, items: lines });
}

/** OrderConfirmed: the reserved units are sold; they leave `reserved` (available was decremented at reservation). */
export async function commitStock(event: EventEnvelope<OrderConfirmedPayload>, ctx: HandlerContext): Promise<void> {
  await settleStock(ctx.db, await closeReservations(ctx.db, event.orderId, "COMMITTED"), false);
}
