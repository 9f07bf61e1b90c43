import type { OrderPlacedPayload, StockLine, StockShortage } from "../shared/events/event-payloads.ts";
import type { EventEnvelope, HandlerContext } from "../shared/consumer/consumer-handler.ts";
import { sql, type SqlExecutor } from "../shared/db/sql.ts";
import { isTombstoned, lockOrder } from "../shared/consumer/order-tombstones.ts";

/** One line per SKU (quantities of repeated SKUs summed), sorted by SKU so concurrent orders lock rows in one order. */
export function stockLines(items: OrderPlacedPayload["items"]): StockLine[] {
  const bySku = new Map<string, number>();
  for (const item of items) bySku.set(item.sku, (bySku.get(item.sku) ?? 0) + item.quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity })).sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/** The guarded decrement: succeeds only while enough stock is available, so concurrent orders can never oversell. */
async function takeStock(db: SqlExecutor, line: StockLine): Promise<boolean> {
  const updated = await db.execute(sql`
    UPDATE stock SET available = available - ${line.quantity}::int, reserved = reserved + ${line.quantity}::int, updated_at = now()
     WHERE sku = ${line.sku} AND available >= ${line.quantity}::int`);
  return updated === 1;
}

async function shortagesOf(db: SqlExecutor, lines: readonly StockLine[], failed: ReadonlySet<string>): Promise<StockShortage[]> {
  const skus = lines.filter((line) => failed.has(line.sku)).map((line) => line.sku);
  const rows = await db.rows<{ sku: string; available: number }>(sql`SELECT sku, available FROM stock WHERE sku = ANY(${skus}::text[])`);
  const available = new Map(rows.map((row) => [row.sku, Number(row.available)]));
  return lines.filter((line) => failed.has(line.sku)).map((line) => ({ sku: line.sku, requested: line.quantity, available: available.get(line.sku) ?? 0 }));
}

/** Logged when an OrderPlaced reaches the handler for an order already reserved: the inbox let a redelivery through. */
export const ALREADY_RESERVED_MESSAGE = "order already has reservations; OrderPlaced ignored";

async function hasReservations(db: SqlExecutor, orderId: string): Promise<boolean> {
  const rows = await db.rows<{ found: number }>(sql`SELECT 1 AS found FROM stock_reservations WHERE order_id = ${orderId}::uuid LIMIT 1`);
  return rows.length > 0;
}

/**
 * OrderPlaced: reserve every line or none. Each line is a guarded update; if any line fails, everything taken for
 * this order is rolled back to a savepoint (the runner's transaction, with its inbox row, still commits) and
 * StockRejected names the short SKUs. An order that already has reservations, or that this group already saw
 * cancelled (its tombstone: e.g. a dead-lettered OrderPlaced replayed after the cancel), is left alone.
 */
export async function reserveStock(event: EventEnvelope<OrderPlacedPayload>, ctx: HandlerContext): Promise<void> {
  const { db } = ctx;
  await lockOrder(db, ctx.group, event.orderId);
  if (await isTombstoned(db, ctx.group, event.orderId)) {
    ctx.logger.warn("order already ended (tombstone); OrderPlaced reserves nothing");
    return;
  }
  if (await hasReservations(db, event.orderId)) {
    ctx.logger.warn(ALREADY_RESERVED_MESSAGE);
    return;
  }
  const lines = stockLines(event.payload.items);
  await db.execute(sql`SAVEPOINT reserve_order`);
  const failed = new Set<string>();
  for (const line of lines) if (!(await takeStock(db, line))) failed.add(line.sku);
  if (failed.size > 0) {
    await db.execute(sql`ROLLBACK TO SAVEPOINT reserve_order`);
    const shortages = await shortagesOf(db, lines, failed);
    await ctx.emit("StockRejected", event.orderId, { reason: `insufficient stock for ${[...failed].join(", ")}`, shortages });
    ctx.logger.info({ shortages }, "stock rejected");
    return;
  }
  await db.execute(sql`RELEASE SAVEPOINT reserve_order`);
  await db.execute(sql`
    INSERT INTO stock_reservations (order_id, sku, quantity, status)
    SELECT ${event.orderId}::uuid, sku, quantity, 'RESERVED'::reservation_status
      FROM unnest(${lines.map((l) => l.sku)}::text[], ${lines.map((l) => l.quantity)}::int[]) AS l(sku, quantity)`);
  await ctx.emit("StockReserved", event.orderId, { reservation_id: event.orderId, items: lines });
}
