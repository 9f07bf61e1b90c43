import { randomUUID } from "node:crypto";
import type { OrderLine, OrderPlacedPayload } from "../../../services/shared/events/event-payloads.ts";

/** An OrderPlaced payload with fresh ids; lines default to one unit of SKU-1. */
export function orderPlaced(lines: OrderLine[] = [{ sku: "SKU-1", quantity: 1, unit_price_minor: 1_000 }], orderId: string = randomUUID()): OrderPlacedPayload {
  return {
    event_id: randomUUID(),
    order_id: orderId,
    occurred_at: Date.now(),
    customer_id: "customer-1",
    currency: "EUR",
    total_minor: lines.reduce((sum, line) => sum + line.quantity * line.unit_price_minor, 0),
    items: lines,
    shipping_address: null,
  };
}
