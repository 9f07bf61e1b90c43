import type { OrderCancelledPayload, OrderConfirmedPayload, StockLine } from "../shared/events/event-payloads.ts";
import type { EventEnvelope, HandlerContext, TransactionClient } from "../shared/consumer/consumer-handler.ts";

/**
 * Moves the order's RESERVED reservations to `to` and returns their lines. The status guard makes a second
 * cancel or confirm of the same order a no-op (nothing is released or committed twice).
 */
async function closeReservations(tx: TransactionClient, orderId: string, to: "RELEASED" | "COMMITTED"): Promise<StockLine[]> {
  const rows = await tx.$queryRaw<StockLine[]>`
    UPDATE stock_reservations SET status = ${to}::reservation_status, updated_at = now()
     WHERE order_id = ${orderId}::uuid AND status = 'RESERVED'
    RETURNING sku, quantity`;
  return rows.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/** OrderCancelled: the reserved units go back to available, once; StockReleased when there was anything to release. */
export async function releaseStock(event: EventEnvelope<OrderCancelledPayload>, ctx: HandlerContext): Promise<void> {
  const lines = await closeReservations(ctx.tx, event.orderId, "RELEASED");
  if (lines.length === 0) return;
  for (const line of lines) {
    await ctx.tx.$executeRaw`UPDATE stock SET available = available + ${line.quantity}, reserved = reserved - ${line.quantity}, updated_at = now() WHERE sku = ${line.sku}`;
  }
  await ctx.emit("StockReleased", event.orderId, { reservation_id: event.orderId, reason: event.payload.reason, items: lines });
}

/** OrderConfirmed: the reserved units are sold; they leave `reserved` (available was decremented at reservation). */
export async function commitStock(event: EventEnvelope<OrderConfirmedPayload>, ctx: HandlerContext): Promise<void> {
  const lines = await closeReservations(ctx.tx, event.orderId, "COMMITTED");
  for (const line of lines) {
    await ctx.tx.$executeRaw`UPDATE stock SET reserved = reserved - ${line.quantity}, updated_at = now() WHERE sku = ${line.sku}`;
  }
}
