import type { OrderPlacedPayload, StockLine, StockShortage } from "../shared/events/event-payloads.ts";
import type { EventEnvelope, HandlerContext, TransactionClient } from "../shared/consumer/consumer-handler.ts";

/** One line per SKU (quantities of repeated SKUs summed), sorted by SKU so concurrent orders lock rows in one order. */
export function stockLines(items: OrderPlacedPayload["items"]): StockLine[] {
  const bySku = new Map<string, number>();
  for (const item of items) bySku.set(item.sku, (bySku.get(item.sku) ?? 0) + item.quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity })).sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/** The guarded decrement: succeeds only while enough stock is available, so concurrent orders can never oversell. */
async function takeStock(tx: TransactionClient, line: StockLine): Promise<boolean> {
  const updated = await tx.$executeRaw`
    UPDATE stock SET available = available - ${line.quantity}, reserved = reserved + ${line.quantity}, updated_at = now()
     WHERE sku = ${line.sku} AND available >= ${line.quantity}`;
  return updated === 1;
}

async function shortagesOf(tx: TransactionClient, lines: readonly StockLine[], failed: ReadonlySet<string>): Promise<StockShortage[]> {
  const skus = lines.filter((line) => failed.has(line.sku)).map((line) => line.sku);
  const rows = await tx.$queryRaw<Array<{ sku: string; available: number }>>`SELECT sku, available FROM stock WHERE sku = ANY(${skus}::text[])`;
  const available = new Map(rows.map((row) => [row.sku, row.available]));
  return lines.filter((line) => failed.has(line.sku)).map((line) => ({ sku: line.sku, requested: line.quantity, available: available.get(line.sku) ?? 0 }));
}

/**
 * OrderPlaced: reserve every line or none. Each line is a guarded update; if any line fails, everything taken for
 * this order is rolled back to a savepoint (the runner's transaction, with its inbox row, still commits) and
 * StockRejected names the short SKUs. An order that already has reservations is left alone.
 */
export async function reserveStock(event: EventEnvelope<OrderPlacedPayload>, ctx: HandlerContext): Promise<void> {
  const { tx } = ctx;
  const existing = await tx.$queryRaw<Array<{ n: bigint }>>`SELECT count(*) AS n FROM stock_reservations WHERE order_id = ${event.orderId}::uuid`;
  if (Number(existing[0]?.n ?? 0) > 0) {
    ctx.logger.warn("order already has reservations; OrderPlaced ignored");
    return;
  }
  const lines = stockLines(event.payload.items);
  await tx.$executeRawUnsafe("SAVEPOINT reserve_order");
  const failed = new Set<string>();
  for (const line of lines) if (!(await takeStock(tx, line))) failed.add(line.sku);
  if (failed.size > 0) {
    await tx.$executeRawUnsafe("ROLLBACK TO SAVEPOINT reserve_order");
    const shortages = await shortagesOf(tx, lines, failed);
    await ctx.emit("StockRejected", event.orderId, { reason: `insufficient stock for ${[...failed].join(", ")}`, shortages });
    ctx.logger.info({ shortages }, "stock rejected");
    return;
  }
  await tx.$executeRawUnsafe("RELEASE SAVEPOINT reserve_order");
  for (const line of lines) {
    await tx.$executeRaw`INSERT INTO stock_reservations (order_id, sku, quantity, status) VALUES (${event.orderId}::uuid, ${line.sku}, ${line.quantity}, 'RESERVED')`;
  }
  await ctx.emit("StockReserved", event.orderId, { reservation_id: event.orderId, items: lines });
}
