import { describe, expect, it } from "vitest";
import { loadEventSchemas } from "./event-schemas.ts";
import type { EventPayloads } from "./event-payloads.ts";

const common = { event_id: "e", order_id: "o", occurred_at: 1 };
const money = { amount_minor: 1, currency: "EUR" };

// One complete literal per type: the compiler rejects a missing or extra field, this test a drift from the .avsc.
const samples: { [E in keyof EventPayloads]: EventPayloads[E] } = {
  OrderPlaced: { ...common, customer_id: "c", currency: "EUR", total_minor: 1, items: [], shipping_address: null },
  OrderConfirmed: { ...common, customer_id: "c", total_minor: 1, currency: "EUR" },
  OrderCancelled: { ...common, customer_id: "c", reason: "r", total_minor: 1, currency: "EUR" },
  StockReserved: { ...common, reservation_id: "r", items: [] },
  StockRejected: { ...common, reason: "r", shortages: [] },
  StockReleased: { ...common, reservation_id: "r", reason: "r", items: [] },
  PaymentAuthorized: { ...common, payment_id: "p", ...money, provider_reference: null },
  PaymentDeclined: { ...common, payment_id: "p", ...money, reason: "r" },
  PaymentVoided: { ...common, payment_id: "p", ...money, reason: "r" },
};

describe("event payload types", () => {
  it.each(loadEventSchemas().map((schema) => [schema.eventType, schema] as const))("%s matches its .avsc field names", (eventType, schema) => {
    const avroFields = (schema.schema.fields as Array<{ name: string }>).map((field) => field.name).sort();
    expect(Object.keys(samples[eventType]).sort()).toEqual(avroFields);
  });
});
