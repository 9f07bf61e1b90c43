import type { OrderCancelledPayload, OrderConfirmedPayload, StockLine } from "../shared/events/event-payloads.ts";
import type { EventEnvelope, HandlerContext } from "../shared/consumer/consumer-handler.ts";
import { sql, type SqlExecutor } from "../shared/db/sql.ts";
import { writeTombstone } from "../shared/consumer/order-tombstones.ts";
import { ledgerOf } from "./stock-ledger.ts";

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
 * OrderCancelled: the reserved units go back to available, once; StockReleased when there was anything to release.
 * The tombstone is written either way, so an OrderPlaced that arrives later (a replay) reserves nothing.
 */
export async function releaseStock(event: EventEnvelope<OrderCancelledPayload>, ctx: HandlerContext): Promise<void> {
  const ledger = ledgerOf(ctx);
  await writeTombstone(ctx.db, ctx.group, event.orderId, event.payload.reason);
  ledger.ended.add(event.orderId);
  const lines = await closeReservations(ctx.db, event.orderId, "RELEASED");
  if (lines.length === 0) return;
  ledger.settle(lines, true);
  await ctx.emit("StockReleased", event.orderId, { reservation_id: event.orderId, reason: event.payload.reason, items: lines });
}

/** OrderConfirmed: the reserved units are sold; they leave `reserved` (available was decremented at reservation). */
export async function commitStock(event: EventEnvelope<OrderConfirmedPayload>, ctx: HandlerContext): Promise<void> {
  ledgerOf(ctx).settle(await closeReservations(ctx.db, event.orderId, "COMMITTED"), false);
}
