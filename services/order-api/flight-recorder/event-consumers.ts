/**
 * Which consumer groups handle which event types (and so write an inbox row for it), as the services' consumer
 * definitions declare them. Services never import each other, so the API keeps this table;
 * test/observability/event-consumers.unit.test.ts fails when it and the definitions part ways.
 */
export const EVENT_CONSUMERS: Readonly<Record<string, readonly string[]>> = {
  OrderPlaced: ["inventory", "payment", "notification"],
  OrderConfirmed: ["inventory", "notification"],
  OrderCancelled: ["inventory", "payment", "notification"],
  StockReserved: ["order-state"],
  StockRejected: ["order-state"],
  PaymentAuthorized: ["order-state"],
  PaymentDeclined: ["order-state"],
  StockReleased: [],
  PaymentVoided: [],
};

/** The groups an order needs to reach CONFIRMED or CANCELLED (notification comes after the decision). */
export const DECIDING_GROUPS: ReadonlySet<string> = new Set(["inventory", "payment", "order-state"]);

export const CONSUMER_GROUP_NAMES = ["inventory", "payment", "order-state", "notification"] as const;

/** Which service writes the outbox rows of each event type. */
export function writerOf(eventType: string): string {
  if (eventType.startsWith("Stock")) return "inventory";
  if (eventType.startsWith("Payment")) return "payment";
  if (eventType === "OrderPlaced") return "order-api";
  return "order-state";
}
