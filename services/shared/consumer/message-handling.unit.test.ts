import { describe, expect, it } from "vitest";
import type { SchemaRegistry } from "../avro/schema-registry.ts";
import { DependencyUnavailableError } from "../errors/dependency-errors.ts";
import { classifyFailure } from "../resilience/failure-class.ts";
import { isPermanentFailure, PermanentError } from "./consumer-handler.ts";
import { DatabaseUnavailableError } from "../db/index.ts";
import { deadLetterMessage, DLQ_HEADERS, errorCodeOf, originalHeaders } from "./dead-letter.ts";
import { decodeRecord, headersAsText, type RawRecord } from "./message-decoder.ts";

const record = (value: Buffer | null, headers: Record<string, string> = {}): RawRecord => ({
  topic: "t.orders",
  partition: 2,
  offset: "41",
  key: Buffer.from("k"),
  value,
  headers,
});

/** Only what the decoder calls; each test decides how the registry answers. */
function fakeRegistry(getSchema: (id: number) => Promise<unknown>, decoded: unknown = {}): SchemaRegistry {
  return { getSchema, decode: async () => decoded } as unknown as SchemaRegistry;
}

const wire = (id: number) => Buffer.concat([Buffer.from([0]), Buffer.from([0, 0, 0, id]), Buffer.from("body")]);
const validPayload = { event_id: "0b6f7c1e-5d2a-4f7e-9a54-0d1c2b3a4f5e", order_id: "9b0c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4", occurred_at: 1_700_000_000_000 };

describe("decodeRecord", () => {
  it("refuses tombstones and values without the wire format as permanent failures", async () => {
    const registry = fakeRegistry(async () => ({ name: "orderflow.events.OrderPlaced" }));
    await expect(decodeRecord(registry, record(null))).rejects.toMatchObject({ code: "EMPTY_VALUE", canRetry: false });
    await expect(decodeRecord(registry, record(Buffer.from('{"json":true}')))).rejects.toMatchObject({ code: "NOT_WIRE_FORMAT" });
  });

  it("tells an unknown schema id (permanent) from an unreachable registry (an outage: pause, never dead-letter)", async () => {
    const unknown = fakeRegistry(async () => Promise.reject(Object.assign(new Error("not found"), { status: 404 })));
    await expect(decodeRecord(unknown, record(wire(9)))).rejects.toMatchObject({ code: "UNKNOWN_SCHEMA_ID", canRetry: false });
    const down = fakeRegistry(async () => Promise.reject(new Error("connect ECONNREFUSED")));
    const error = await decodeRecord(down, record(wire(9))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(isPermanentFailure(error)).toBe(false);
    expect(classifyFailure(error)).toBe("outage");
  });

  it("checks the common fields and the event-type header against the writer schema", async () => {
    const registry = (payload: unknown) => fakeRegistry(async () => ({ name: "orderflow.events.OrderPlaced" }), payload);
    await expect(decodeRecord(registry({ ...validPayload, order_id: "nope" }), record(wire(1)))).rejects.toMatchObject({ code: "INVALID_EVENT" });
    await expect(decodeRecord(registry(validPayload), record(wire(1), { "event-type": "OrderCancelled" }))).rejects.toMatchObject({ code: "INVALID_EVENT" });
    const decoded = await decodeRecord(registry(validPayload), record(wire(1), { "event-type": "OrderPlaced" }));
    expect(decoded).toMatchObject({
      eventType: "OrderPlaced",
      eventId: validPayload.event_id,
      orderId: validPayload.order_id,
      occurredAt: new Date(validPayload.occurred_at),
    });
  });
});

describe("dead letters", () => {
  it("keep the original key, value and headers and add where and why", () => {
    const original = record(Buffer.from("poison"), { traceparent: "00-abc-def-01" });
    const message = deadLetterMessage(
      original,
      "inventory",
      { error: new PermanentError("bad", { code: "X_BAD" }), attempts: 1, firstFailureAt: new Date(0) },
      new Date(1_000),
    );
    expect(message.key).toEqual(original.key);
    expect(message.value).toEqual(original.value);
    expect(message.headers).toEqual({
      traceparent: "00-abc-def-01",
      [DLQ_HEADERS.originalTopic]: "t.orders",
      [DLQ_HEADERS.originalPartition]: "2",
      [DLQ_HEADERS.originalOffset]: "41",
      [DLQ_HEADERS.consumerGroup]: "inventory",
      [DLQ_HEADERS.errorMessage]: "PermanentError: bad",
      [DLQ_HEADERS.errorCode]: "X_BAD",
      [DLQ_HEADERS.attempts]: "1",
      [DLQ_HEADERS.firstFailureAt]: "1970-01-01T00:00:00.000Z",
      [DLQ_HEADERS.deadLetteredAt]: "1970-01-01T00:00:01.000Z",
    });
    expect(originalHeaders(headersAsText(message.headers as Record<string, string>))).toEqual({ traceparent: "00-abc-def-01" });
  });

  it("classify errors: coded non-retryable ones are permanent, the database outage is not", () => {
    expect(isPermanentFailure(new PermanentError("x"))).toBe(true);
    expect(isPermanentFailure(new Error("x"))).toBe(false);
    expect(isPermanentFailure(new DatabaseUnavailableError("down"))).toBe(false);
    expect(errorCodeOf(Object.assign(new Error("x"), { code: "P2002" }))).toBe("P2002");
    expect(errorCodeOf("boom")).toBe("UNHANDLED_ERROR");
  });
});
