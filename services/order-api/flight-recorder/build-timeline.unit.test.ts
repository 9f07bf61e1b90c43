import { describe, expect, it } from "vitest";
import type { GroupReport } from "../../shared/monitoring/lag-report.ts";
import { buildTimeline, type TimelineInputs } from "./build-timeline.ts";
import type { OrderRecords, OutboxTimelineRow } from "./timeline-sql.ts";

const ORDER = "7d1c5a52-7c0e-4a56-9d0e-0a4a1c3b2f10";
const t = (ms: number): Date => new Date(Date.UTC(2026, 11, 2, 12, 0, 0) + ms);

function outboxRow(id: string, eventType: string, topic: string, at: number, extra: Partial<OutboxTimelineRow> = {}): OutboxTimelineRow {
  return {
    id,
    topic,
    event_type: eventType,
    event_id: `00000000-0000-4000-8000-00000000000${id}`,
    traceparent: null,
    created_at: t(at),
    published_at: t(at + 20),
    kafka_partition: 2,
    kafka_offset: String(40 + Number(id)),
    attempts: 1,
    last_error: null,
    failed_at: null,
    ...extra,
  };
}

function records(overrides: Partial<OrderRecords> = {}): OrderRecords {
  return {
    order: { id: ORDER, status: "PENDING", customer_id: "c-1", total_minor: "1500", currency: "EUR", cancel_reason: null, created_at: t(0), updated_at: t(0) },
    history: [{ status: "PENDING", reason: null, at: t(0) }],
    outbox: [outboxRow("1", "OrderPlaced", "orders", 0)],
    inbox: [],
    reservations: [],
    payment: undefined,
    callbacks: [],
    notifications: [],
    outcome: undefined,
    deadline: undefined,
    tombstones: [],
    ...overrides,
  };
}

function group(name: string, committedOffset: number | null, members = 1): GroupReport {
  return {
    group: name,
    groupId: `dev.${name}`,
    state: "Stable",
    members,
    totalLag: 1,
    partitions: [
      {
        topic: "dev.orders",
        partition: 2,
        committedOffset,
        logEndOffset: 42,
        lag: committedOffset === null ? null : 42 - committedOffset,
        owner: { memberId: "m", clientId: `${name}-1`, host: "/127.0.0.1" },
      },
    ],
  };
}

function inputs(over: Partial<TimelineInputs> = {}): TimelineInputs {
  return {
    records: records(),
    traceId: null,
    trace: undefined,
    jaegerUiUrl: null,
    groups: [],
    topicName: (logical) => `dev.${logical}`,
    errors: [],
    now: t(60_000),
    ...over,
  };
}

describe("buildTimeline", () => {
  it("joins outbox rows, Kafka placement and inbox records into one event per row with per-hop latencies", () => {
    const rec = records({ inbox: [{ consumer_group: "inventory", event_id: "00000000-0000-4000-8000-000000000001", processed_at: t(50) }] });
    const timeline = buildTimeline(inputs({ records: rec }));
    expect(timeline.events[0]).toMatchObject({ eventType: "OrderPlaced", writtenBy: "order-api", partition: 2, offset: "41", relayLatencyMs: 20 });
    expect(timeline.events[0]!.consumers).toEqual([
      { group: "inventory", processedAt: t(50).toISOString(), latencyMs: 30 },
      { group: "payment", processedAt: null, latencyMs: null },
      { group: "notification", processedAt: null, latencyMs: null },
    ]);
    expect(timeline.steps.map((step) => `${step.sinceOrderMs} ${step.source} ${step.service}`)).toEqual([
      "0 status order-api",
      "0 outbox order-api",
      "20 kafka outbox-relay",
      "50 inbox inventory",
    ]);
  });

  it("a terminal order waits for nothing", () => {
    const rec = records({ order: { ...records().order, status: "CONFIRMED" } });
    expect(buildTimeline(inputs({ records: rec })).waitingFor).toBeNull();
  });

  it("names a failed outbox row and the rows it holds back first", () => {
    const rec = records({
      outbox: [
        outboxRow("1", "OrderPlaced", "orders", 0),
        outboxRow("2", "StockReserved", "inventory", 100, {
          published_at: null,
          kafka_partition: null,
          kafka_offset: null,
          failed_at: t(200),
          attempts: 5,
          last_error: "bad payload",
        }),
        outboxRow("3", "StockReleased", "inventory", 300, { published_at: null, kafka_partition: null, kafka_offset: null, attempts: 0 }),
      ],
    });
    expect(buildTimeline(inputs({ records: rec })).waitingFor).toBe(
      "The StockReserved event (outbox row 2) failed for good after 5 attempts (bad payload); it holds back this order's 1 later event(s) until it is retried: npm run outbox -- retry --id 2.",
    );
  });

  it("says the event is in the dead-letter topic when the group's committed offset is past it without an inbox row", () => {
    const timeline = buildTimeline(inputs({ groups: [group("inventory", 45), group("payment", 42)] }));
    expect(timeline.waitingReasons[0]).toBe(
      "The inventory group moved past OrderPlaced (orders partition 2 offset 41, committed offset 45) without recording it: the event is in the dead-letter topic dev.dlq.inventory (npm run dlq -- list --group inventory; replay it with npm run dlq -- replay --group inventory).",
    );
  });

  it("says the partition is paused or behind when the group has not reached the event", () => {
    const timeline = buildTimeline(inputs({ groups: [group("inventory", 41), group("payment", 45)] }));
    expect(timeline.waitingFor).toBe(
      "The inventory group has not reached OrderPlaced (orders partition 2 offset 41, published 60 s ago): its committed offset there is 41 (lag 1, owned by inventory-1); if it does not move, that partition is paused (a dependency of inventory is unavailable, see its log) or the group is behind.",
    );
  });

  it("says a group without members cannot process it", () => {
    expect(buildTimeline(inputs({ groups: [group("inventory", 41, 0)] })).waitingFor).toContain("the group has no running member");
  });

  it("says a payment is pending at the provider, with the saga deadline", () => {
    const rec = records({
      inbox: ["inventory", "payment", "notification"].map((g) => ({
        consumer_group: g,
        event_id: "00000000-0000-4000-8000-000000000001",
        processed_at: t(50),
      })),
      outbox: [outboxRow("1", "OrderPlaced", "orders", 0), outboxRow("2", "StockReserved", "inventory", 60)],
      payment: {
        provider_payment_id: "sim_pay_1",
        amount_minor: "1500",
        currency: "EUR",
        status: "PENDING",
        decline_reason: null,
        created_at: t(55),
        updated_at: t(55),
      },
      deadline: { due_at: t(900_000) },
    });
    rec.inbox.push({ consumer_group: "order-state", event_id: "00000000-0000-4000-8000-000000000002", processed_at: t(100) });
    expect(buildTimeline(inputs({ records: rec })).waitingFor).toBe(
      `The payment sim_pay_1 has been pending at the provider for 60 s: it waits for the provider's callback; the saga cancels the order at its deadline ${t(900_000).toISOString()} if no callback comes.`,
    );
  });
});
