// The inbox check against inbox retention: each consumer service purges its inbox rows older than
// INBOX_RETENTION_HOURS, so an event produced before that window may rightly have no row left.
import { describe, expect, it } from "vitest";
import type { Queryable } from "./audit-sql.ts";
import { inboxKeptSince } from "./run-audit.ts";
import { KafkaReconciler } from "./kafka-reconcile.ts";
import { FindingSink } from "./verdict.ts";

const PREFIX = "unit.";
const HOUR = 3_600_000;

/** An inbox with no rows at all: every event looked up is missing. */
const emptyInbox = {
  query: async (_text: string, values: [string, string[]]) => ({ rows: values[1].map((id) => ({ event_id: id })) }),
} as unknown as Queryable;

function orderPlaced(offset: number, eventId: string, timestamp: number) {
  return { topic: `${PREFIX}orders`, partition: 0, offset, key: `order-${offset}`, headers: { "event-id": eventId, "event-type": "OrderPlaced" }, timestamp };
}

describe("KafkaReconciler inbox check", () => {
  it("reports a missing inbox row only for events produced inside the inbox retention", async () => {
    const snapshotAt = new Date("2026-12-02T12:00:00Z");
    const sink = new FindingSink(10);
    const reconciler = new KafkaReconciler(PREFIX, sink, emptyInbox);
    reconciler.keepInboxSince(inboxKeptSince(snapshotAt, 24));
    reconciler.setCommitted("inventory", [{ topic: `${PREFIX}orders`, partition: 0, offset: 2 }]);
    const purgedLongAgo = "00000000-0000-4000-8000-000000000001";
    const recent = "00000000-0000-4000-8000-000000000002";
    reconciler.onRecord(orderPlaced(0, purgedLongAgo, snapshotAt.getTime() - 30 * HOUR));
    reconciler.onRecord(orderPlaced(1, recent, snapshotAt.getTime() - 1 * HOUR));
    await reconciler.finishConsumers();
    const gaps = sink.results(new Set()).find((check) => check.code === "INBOX_GAP");
    expect(gaps?.examples.map((finding) => finding.subject)).toEqual([recent]);
    expect(reconciler.beyondInboxRetention).toBe(1);
  });
});
