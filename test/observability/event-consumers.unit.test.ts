import { describe, expect, it } from "vitest";
import { EVENT_CONSUMERS } from "../../services/order-api/flight-recorder/event-consumers.ts";
import { inventoryConsumer } from "../../services/inventory/inventory-consumer.ts";
import { notificationConsumer } from "../../services/notification/notification-consumer.ts";
import { orderStateConsumer } from "../../services/order-state/order-state-consumer.ts";
import { paymentConsumer } from "../../services/payment/payment-consumer.ts";
import type { ConsumerDefinition } from "../../services/shared/consumer/consumer-handler.ts";
import { EVENT_TOPICS } from "../../services/shared/events/topic-catalogue.ts";

// The definitions are built with stand-ins: only their groups and handler names are read here.
const definitions: ConsumerDefinition[] = [inventoryConsumer, notificationConsumer({} as never), orderStateConsumer({} as never), paymentConsumer({} as never)];

describe("the order timeline's table of event consumers", () => {
  it("names, for every event type, exactly the groups whose consumer definition handles it", () => {
    const handled: Record<string, string[]> = Object.fromEntries(Object.keys(EVENT_TOPICS).map((type) => [type, []]));
    for (const definition of definitions) for (const type of Object.keys(definition.handlers)) handled[type]!.push(definition.group);
    const sorted = (table: Readonly<Record<string, readonly string[]>>) =>
      Object.fromEntries(Object.entries(table).map(([type, groups]) => [type, [...groups].sort()]));
    expect(sorted(EVENT_CONSUMERS)).toEqual(sorted(handled));
  });
});
