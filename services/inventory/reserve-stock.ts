import type { OrderPlacedPayload, StockLine } from "../shared/events/event-payloads.ts";
import type { EventEnvelope, HandlerContext } from "../shared/consumer/consumer-handler.ts";
import { sql } from "../shared/db/sql.ts";
import { ledgerOf } from "./stock-ledger.ts";

/** One line per SKU (quantities of repeated SKUs summed), sorted by SKU so concurrent orders lock rows in one order. */
export function stockLines(items: OrderPlacedPayload["items"]): StockLine[] {
  const bySku = new Map<string, number>();
  for (const item of items) bySku.set(item.sku, (bySku.get(item.sku) ?? 0) + item.quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity })).sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/** Logged when an OrderPlaced reaches the handler for an order already reserved: the inbox let a redelivery through. */
export const ALREADY_RESERVED_MESSAGE = "order already has reservations; OrderPlaced ignored";

/**
 * OrderPlaced: reserve every line or none, against the run's ledger (stock-ledger.ts: the stock rows are locked
 * for the run and written in one statement at its end); if any line is short, StockRejected names the short SKUs.
 * An order that already has reservations, or that this group already saw cancelled (its tombstone: e.g. a
 * dead-lettered OrderPlaced replayed after the cancel), is left alone; the run holds the order's lock (lockOrder's
 * key) since its first statement.
 */
export async function reserveStock(event: EventEnvelope<OrderPlacedPayload>, ctx: HandlerContext): Promise<void> {
  const ledger = ledgerOf(ctx);
  if (ledger.ended.has(event.orderId)) {
    ctx.logger.warn("order already ended (tombstone); OrderPlaced reserves nothing");
    return;
  }
  if (ledger.reserved.has(event.orderId)) {
    ctx.logger.warn(ALREADY_RESERVED_MESSAGE);
    return;
  }
  const lines = stockLines(event.payload.items);
  const shortages = ledger.reserve(lines);
  if (shortages.length > 0) {
    await ctx.emit("StockRejected", event.orderId, { reason: `insufficient stock for ${shortages.map((s) => s.sku).join(", ")}`, shortages });
    ctx.logger.info({ shortages }, "stock rejected");
    return;
  }
  ledger.reserved.add(event.orderId);
  await ctx.db.execute(sql`
    INSERT INTO stock_reservations (order_id, sku, quantity, status)
    SELECT ${event.orderId}::uuid, sku, quantity, 'RESERVED'::reservation_status
      FROM unnest(${lines.map((l) => l.sku)}::text[], ${lines.map((l) => l.quantity)}::int[]) AS l(sku, quantity)`);
  await ctx.emit("StockReserved", event.orderId, { reservation_id: event.orderId, items: lines });
}
