import { describe, expect, it } from "vitest";
import { composeMessage, notificationConsumer } from "./notification-consumer.ts";
import type { NotificationChannel } from "./notification-channel.ts";

const base = { event_id: "e", order_id: "o-1", occurred_at: 0, customer_id: "c", total_minor: 12345, currency: "EUR" };

describe("notification messages", () => {
  it("words a receipt, a confirmation and a cancellation with the total and the reason", () => {
    expect(composeMessage("RECEIPT", { ...base, items: [], shipping_address: null }).text).toContain("123.45 EUR");
    expect(composeMessage("CONFIRMED", base).subject).toBe("Your order o-1 is confirmed");
    expect(composeMessage("CANCELLED", { ...base, reason: "out_of_stock" }).text).toContain("out_of_stock");
  });

  it("prints amounts in the currency's own minor unit (0 decimals for JPY, 3 for KWD, 2 for EUR)", () => {
    expect(composeMessage("CONFIRMED", { ...base, total_minor: 1500, currency: "JPY" }).text).toContain("1500 JPY");
    expect(composeMessage("CONFIRMED", { ...base, total_minor: 12345, currency: "KWD" }).text).toContain("12.345 KWD");
    expect(composeMessage("CONFIRMED", { ...base, total_minor: 12345, currency: "BHD" }).text).toContain("12.345 BHD");
    expect(composeMessage("CONFIRMED", { ...base, total_minor: 5, currency: "EUR" }).text).toContain("0.05 EUR");
    expect(composeMessage("CONFIRMED", { ...base, total_minor: -250, currency: "USD" }).text).toContain("-2.50 USD");
  });

  it("handles exactly the three order events", () => {
    const channel: NotificationChannel = { name: "fake", send: async () => undefined };
    const definition = notificationConsumer(channel);
    expect(definition.group).toBe("notification");
    expect(Object.keys(definition.handlers).sort()).toEqual(["OrderCancelled", "OrderConfirmed", "OrderPlaced"]);
  });
});
