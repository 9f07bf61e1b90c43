import type { OrderPlacedPayload } from "../shared/events/event-payloads.ts";
import type { EventEnvelope } from "../shared/consumer/consumer-handler.ts";
import { sql, type SqlExecutor } from "../shared/db/sql.ts";

/**
 * The inventory's lock order for a run (ConsumerDefinition.lockRun): every stock row the run's events will touch
 * (the SKUs of new orders, and of the reservations being released or committed), locked by SKU up front. Two
 * runs in flight at once then queue on the first shared SKU instead of each holding one row the other needs
 * (PostgreSQL would break that deadlock only after deadlock_timeout, and the runner would redo both runs).
 */
export async function lockStockOfRun(events: readonly EventEnvelope[], db: SqlExecutor): Promise<void> {
  const skus = new Set<string>();
  const settled: string[] = [];
  for (const event of events) {
    if (event.eventType === "OrderPlaced") for (const item of (event.payload as OrderPlacedPayload).items) skus.add(item.sku);
    else settled.push(event.orderId);
  }
  if (skus.size === 0 && settled.length === 0) return;
  await db.rows(sql`
    SELECT sku FROM stock
     WHERE sku = ANY(${[...skus]}::text[])
        OR sku IN (SELECT sku FROM stock_reservations WHERE order_id = ANY(${settled}::uuid[]))
     ORDER BY sku
       FOR UPDATE`);
}
