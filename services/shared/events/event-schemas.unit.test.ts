import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EventSchemaError, loadEventSchemas, subjectOf } from "./event-schemas.ts";
import { allTopicNames, DLQ_TOPICS, EVENT_TOPICS, logicalTopicOf } from "./topic-catalogue.ts";

describe("event schemas", () => {
  const schemas = loadEventSchemas();

  it("has one schema per event type of the catalogue, on the catalogue's topic", () => {
    expect(schemas.map((s) => s.eventType).sort()).toEqual(Object.keys(EVENT_TOPICS).sort());
    for (const schema of schemas) expect(schema.topic).toBe(EVENT_TOPICS[schema.eventType]);
  });

  it("every event carries event_id, order_id and occurred_at (timestamp-millis)", () => {
    for (const { schema } of schemas) {
      const fields = schema.fields as Array<{ name: string; type: unknown }>;
      expect(fields.slice(0, 3).map((f) => f.name)).toEqual(["event_id", "order_id", "occurred_at"]);
      expect(fields[2]?.type).toEqual({ type: "long", logicalType: "timestamp-millis" });
    }
  });

  it("names subjects with the topic-record strategy", () => {
    const placed = schemas.find((s) => s.eventType === "OrderPlaced")!;
    expect(subjectOf("test.orders", placed)).toBe("test.orders-orderflow.events.OrderPlaced");
  });

  it("refuses a schema whose type has no topic", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "schemas-"));
    writeFileSync(path.join(dir, "Mystery.avsc"), JSON.stringify({ type: "record", name: "Mystery", namespace: "orderflow.events", fields: [] }));
    expect(() => loadEventSchemas(dir)).toThrow(EventSchemaError);
  });
});

describe("topic catalogue", () => {
  it("maps Order* to orders, Stock* to inventory, Payment* to payments", () => {
    for (const type of Object.keys(EVENT_TOPICS)) {
      const expected = type.startsWith("Order") ? "orders" : type.startsWith("Stock") ? "inventory" : "payments";
      expect(logicalTopicOf(type)).toBe(expected);
    }
    expect(logicalTopicOf("Nope")).toBeUndefined();
  });

  it("provisions event and dead-letter topics with the prefix", () => {
    expect(allTopicNames({ TOPIC_PREFIX: "t." })).toEqual(["t.orders", "t.inventory", "t.payments", ...DLQ_TOPICS.map((d) => `t.${d}`)]);
  });
});
