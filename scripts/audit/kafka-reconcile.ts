/**
 * The Kafka half of the audit: what is on the topics against the outbox, and what each consumer group committed
 * past against its inbox.
 * - every published outbox row's event id is on its topic at least once (EVENT_NOT_ON_TOPIC);
 * - one key's events are on one partition (KEY_SPLIT_ACROSS_PARTITIONS) in outbox order (EVENT_OUT_OF_ORDER),
 *   compared by the first copy of each event (a relay retry may append a second copy later);
 * - below a group's committed offset, every event of a type the group handles has the group's inbox row
 *   (INBOX_GAP) unless the group dead-lettered it (EVENT_DEAD_LETTERED, or DEAD_LETTER_REPLAYED once processed);
 *   only for records produced inside INBOX_RETENTION_HOURS, since each service purges older inbox rows.
 * Memory: one map entry per record (event id -> packed partition/offset); 100,000 orders are ~600,000 records.
 */
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER } from "../../services/shared/events/event-headers.ts";
import { DLQ_HEADERS } from "../../services/shared/consumer/dead-letter.ts";
import type { EventTopic, EventType } from "../../services/shared/events/topic-catalogue.ts";
import type { GroupPartitionOffset } from "../../services/shared/kafka/kafka-admin.ts";
import { eventsMissingFromInbox, type PublishedRow, type Queryable } from "./audit-sql.ts";
import type { TopicRecord } from "./topic-reader.ts";
import type { FindingSink } from "./verdict.ts";

/**
 * What each consumer group subscribes to and which event types it writes an inbox row for (types without a
 * handler are skipped without one). Mirrors the services' consumer definitions; a handler added there and not here
 * only narrows the check, a handler removed there must be removed here.
 */
export interface ConsumerExpectation {
  group: string;
  topics: readonly EventTopic[];
  handles: readonly EventType[];
}

export const CONSUMER_EXPECTATIONS: readonly ConsumerExpectation[] = [
  { group: "inventory", topics: ["orders"], handles: ["OrderPlaced", "OrderCancelled", "OrderConfirmed"] },
  { group: "payment", topics: ["orders"], handles: ["OrderPlaced", "OrderCancelled"] },
  { group: "order-state", topics: ["inventory", "payments"], handles: ["StockReserved", "StockRejected", "PaymentAuthorized", "PaymentDeclined"] },
  { group: "notification", topics: ["orders"], handles: ["OrderPlaced", "OrderConfirmed", "OrderCancelled"] },
];

/** partition and offset in one safe integer (offsets stay below 2^36, partitions below 2^16). */
const OFFSET_SPAN = 2 ** 36;
const pack = (partition: number, offset: number): number => partition * OFFSET_SPAN + offset;
const partitionOf = (packed: number): number => Math.floor(packed / OFFSET_SPAN);
const offsetOf = (packed: number): number => packed % OFFSET_SPAN;

interface Position {
  topic: string;
  partition: number;
  offset: number;
  eventType: string;
}

interface DeadLetter extends Position {
  errorCode: string;
  deadLetteredAt: string;
}

const FLUSH_AT = 5_000;
const MAX_QUEUED = 8;

export class KafkaReconciler {
  /** Full topic name -> event id -> packed position of its first copy. */
  private readonly positions = new Map<string, Map<string, number>>();
  /** Logical group -> dead-lettered event id -> where it came from. */
  private readonly deadLetters = new Map<string, Map<string, DeadLetter>>();
  /** Logical group -> events below its committed offset still to look up in its inbox. */
  private readonly toCheck = new Map<string, Array<{ eventId: string; at: Position }>>();
  /** Logical group -> events the inbox lacks. */
  private readonly inboxMissing = new Map<string, Map<string, Position>>();
  /** Full group id -> "topic/partition" -> committed offset. */
  private readonly committed = new Map<string, Map<string, number>>();
  duplicateRecords = 0;
  records = 0;
  /** Records produced before inboxKeptSince: the inbox check skips them (their rows may be purged by retention). */
  beyondInboxRetention = 0;
  private inboxKeptSince = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly prefix: string,
    private readonly sink: FindingSink,
    private readonly db: Queryable,
  ) {}

  groupId(group: string): string {
    return `${this.prefix}${group}`;
  }

  /** Records produced before `since` (ms) are past inbox retention: a missing inbox row there proves nothing. */
  keepInboxSince(since: number): void {
    this.inboxKeptSince = since;
  }

  setCommitted(group: string, offsets: readonly GroupPartitionOffset[]): number {
    const byPartition = new Map<string, number>();
    for (const entry of offsets) if (entry.offset >= 0) byPartition.set(`${entry.topic}/${entry.partition}`, entry.offset);
    this.committed.set(group, byPartition);
    return byPartition.size;
  }

  /** Called for every record read (event topics and dead-letter topics alike). */
  onRecord(record: TopicRecord): void {
    this.records += 1;
    const logical = record.topic.slice(this.prefix.length);
    const eventId = record.headers[EVENT_ID_HEADER];
    const eventType = record.headers[EVENT_TYPE_HEADER] ?? "unknown";
    if (!eventId) {
      this.sink.add("RECORD_WITHOUT_EVENT_ID", `${record.topic}/${record.partition}@${record.offset}`, { key: record.key, eventType });
      return;
    }
    if (logical.startsWith("dlq.")) {
      this.onDeadLetter(record, eventId, eventType);
      return;
    }
    const seen = this.positions.get(record.topic) ?? new Map<string, number>();
    this.positions.set(record.topic, seen);
    if (seen.has(eventId)) this.duplicateRecords += 1;
    else seen.set(eventId, pack(record.partition, record.offset));
    const at = { topic: record.topic, partition: record.partition, offset: record.offset, eventType };
    if (record.timestamp < this.inboxKeptSince) {
      this.beyondInboxRetention += 1;
      return;
    }
    for (const consumer of CONSUMER_EXPECTATIONS) {
      if (!(consumer.topics as readonly string[]).includes(logical) || !(consumer.handles as readonly string[]).includes(eventType)) continue;
      const committed = this.committed.get(consumer.group)?.get(`${record.topic}/${record.partition}`);
      if (committed === undefined || record.offset >= committed) continue;
      const list = this.toCheck.get(consumer.group) ?? [];
      list.push({ eventId, at });
      this.toCheck.set(consumer.group, list);
    }
  }

  private onDeadLetter(record: TopicRecord, eventId: string, eventType: string): void {
    const group = record.headers[DLQ_HEADERS.consumerGroup] ?? record.topic.slice(this.prefix.length + "dlq.".length);
    const letters = this.deadLetters.get(group) ?? new Map<string, DeadLetter>();
    this.deadLetters.set(group, letters);
    letters.set(eventId, {
      topic: record.headers[DLQ_HEADERS.originalTopic] ?? "?",
      partition: Number(record.headers[DLQ_HEADERS.originalPartition] ?? -1),
      offset: Number(record.headers[DLQ_HEADERS.originalOffset] ?? -1),
      eventType,
      errorCode: record.headers[DLQ_HEADERS.errorCode] ?? "?",
      deadLetteredAt: record.headers[DLQ_HEADERS.deadLetteredAt] ?? "?",
    });
  }

  private lookups: Promise<void> = Promise.resolve();
  private lookupsQueued = 0;
  private lookupError: unknown;

  /**
   * Looks the buffered events up in the inboxes, 5,000 per statement. The statements queue behind each other while
   * the topics are still being read (the read waits only when more than MAX_QUEUED are outstanding); force waits
   * for all of them.
   */
  async flush(force = false): Promise<void> {
    for (const [group, list] of this.toCheck) {
      if (list.length === 0 || (!force && list.length < FLUSH_AT)) continue;
      this.toCheck.set(group, []);
      this.lookupsQueued += 1;
      // Caught here and rethrown below: a rejection nobody awaits yet would end the process.
      this.lookups = this.lookups
        .then(() => (this.lookupError === undefined ? this.lookUp(group, list) : undefined))
        .catch((error: unknown) => void (this.lookupError ??= error))
        .finally(() => (this.lookupsQueued -= 1));
    }
    if (force || this.lookupsQueued > MAX_QUEUED) await this.lookups;
    if (this.lookupError !== undefined) throw this.lookupError;
  }

  private async lookUp(group: string, list: ReadonlyArray<{ eventId: string; at: Position }>): Promise<void> {
    const byId = new Map(list.map((entry) => [entry.eventId, entry.at]));
    const missing = await eventsMissingFromInbox(this.db, group, [...byId.keys()]);
    const known = this.inboxMissing.get(group) ?? new Map<string, Position>();
    for (const eventId of missing) known.set(eventId, byId.get(eventId) as Position);
    this.inboxMissing.set(group, known);
  }

  /** After the read: inbox gaps that are not dead letters, and every dead letter's fate. */
  async finishConsumers(): Promise<void> {
    await this.flush(true);
    for (const [group, missing] of this.inboxMissing) {
      const letters = this.deadLetters.get(group);
      for (const [eventId, at] of missing) {
        if (letters?.has(eventId)) continue;
        this.sink.add("INBOX_GAP", eventId, { group, ...at });
      }
    }
    for (const [group, letters] of this.deadLetters) {
      const unprocessed = new Set(await eventsMissingFromInbox(this.db, group, [...letters.keys()]));
      for (const [eventId, letter] of letters)
        this.sink.add(unprocessed.has(eventId) ? "EVENT_DEAD_LETTERED" : "DEAD_LETTER_REPLAYED", eventId, { group, ...letter });
    }
  }

  /** Outbox rows of one key arrive consecutively, in outbox order (publishedOutboxRows' ORDER BY). */
  private current: { topicKey: string; first: number; last: { packed: number; row: PublishedRow } | undefined; reported: boolean } | undefined;

  checkPublished(rows: readonly PublishedRow[]): number {
    for (const row of rows) {
      const topic = `${this.prefix}${row.topic}`;
      const packed = this.positions.get(topic)?.get(row.eventId);
      if (packed === undefined) {
        this.sink.add("EVENT_NOT_ON_TOPIC", row.eventId, { outboxId: row.id, topic, key: row.key, eventType: row.eventType });
        continue;
      }
      const topicKey = `${topic}\u0000${row.key}`;
      if (this.current?.topicKey !== topicKey) this.current = { topicKey, first: packed, last: undefined, reported: false };
      const state = this.current;
      const previous = state.last;
      state.last = { packed, row };
      if (state.reported || previous === undefined) continue;
      if (partitionOf(packed) !== partitionOf(state.first)) {
        state.reported = true;
        this.sink.add("KEY_SPLIT_ACROSS_PARTITIONS", row.key, { topic, partitions: [partitionOf(state.first), partitionOf(packed)], eventType: row.eventType });
      } else if (offsetOf(packed) < offsetOf(previous.packed)) {
        state.reported = true;
        this.sink.add("EVENT_OUT_OF_ORDER", row.key, {
          topic,
          partition: partitionOf(packed),
          earlierInOutbox: { outboxId: previous.row.id, eventType: previous.row.eventType, offset: offsetOf(previous.packed) },
          laterInOutbox: { outboxId: row.id, eventType: row.eventType, offset: offsetOf(packed) },
        });
      }
    }
    return rows.length;
  }
}
