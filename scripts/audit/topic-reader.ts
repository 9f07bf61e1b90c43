/**
 * Reads topics from their first retained offset to the end offsets captured beforehand, once, and stops: what
 * the audit compares with the database. It joins a throw-away consumer group (kafkajs cannot read without one),
 * never commits an offset, and deletes the group afterwards, so the pipeline's own groups are never touched.
 * Records appended after the end offsets were captured are ignored.
 */
import { randomBytes } from "node:crypto";
import { withAdmin, type PartitionOffsets } from "../../services/shared/kafka/kafka-admin.ts";
import { createConsumer } from "../../services/shared/kafka/kafka-consumer.ts";
import type { EachBatchPayload, IHeaders, Kafka } from "../../services/shared/kafka/kafka-types.ts";

export interface TopicRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  headers: Record<string, string>;
  /** The record's timestamp (ms since the epoch): when the relay produced it, before any group processed it. */
  timestamp: number;
}

export interface TopicReadOptions {
  /** Topic -> its partitions' offsets, captured after the database snapshot was taken. */
  ends: ReadonlyMap<string, readonly PartitionOffsets[]>;
  onRecord: (record: TopicRecord) => void;
  /** Awaited after each fetched batch (the caller flushes its buffered database look-ups here). */
  afterBatch?: () => Promise<void>;
  timeoutMs: number;
  /** Group id prefix (TOPIC_PREFIX), so the throw-away group is recognisably this environment's. */
  groupPrefix: string;
}

export interface TopicReadResult {
  complete: boolean;
  records: number;
  partitions: number;
  /** "topic/partition" still short of its end offset when the read gave up. */
  unfinished: string[];
  elapsedMs: number;
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) text[name] = first.toString();
  }
  return text;
}

const partitionId = (topic: string, partition: number): string => `${topic}/${partition}`;

export async function readTopicsToEnd(kafka: Kafka, options: TopicReadOptions): Promise<TopicReadResult> {
  const startedAt = Date.now();
  const endOf = new Map<string, number>();
  for (const [topic, partitions] of options.ends) {
    for (const p of partitions) if (p.high > p.low) endOf.set(partitionId(topic, p.partition), p.high);
  }
  const partitions = endOf.size;
  if (partitions === 0) return { complete: true, records: 0, partitions, unfinished: [], elapsedMs: 0 };
  const topics = [...new Set([...endOf.keys()].map((id) => id.slice(0, id.lastIndexOf("/"))))];
  const groupId = `${options.groupPrefix}audit-${randomBytes(4).toString("hex")}`;
  const consumer = createConsumer(kafka, {
    groupId,
    maxWaitTimeInMs: 100,
    sessionTimeoutMs: 30_000,
    heartbeatIntervalMs: 3_000,
    maxBytesPerPartition: 8 * 1024 * 1024,
  });
  let records = 0;
  let finished: () => void = () => undefined;
  const allRead = new Promise<void>((resolve) => (finished = resolve));
  // One flush at a time, whatever the number of partitions handled concurrently.
  let flushing: Promise<void> = Promise.resolve();
  let failure: unknown;

  const onBatch = async ({ batch, heartbeat }: EachBatchPayload): Promise<void> => {
    const id = partitionId(batch.topic, batch.partition);
    const end = endOf.get(id);
    if (end === undefined) return;
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset >= end) break;
      records += 1;
      options.onRecord({
        topic: batch.topic,
        partition: batch.partition,
        offset,
        key: message.key?.toString() ?? null,
        headers: headerText(message.headers),
        timestamp: Number(message.timestamp),
      });
      if (offset === end - 1) endOf.delete(id);
    }
    if (options.afterBatch) {
      try {
        await (flushing = flushing.then(options.afterBatch));
      } catch (error) {
        // Not rethrown: kafkajs would fetch the batch again and count its records twice.
        failure ??= error;
        finished();
        return;
      }
    }
    await heartbeat();
    if (endOf.size === 0) finished();
  };

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), options.timeoutMs)));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: 4, eachBatch: onBatch });
    const outcome = await Promise.race([allRead.then(() => "done" as const), timedOut]);
    if (failure !== undefined) throw failure;
    await flushing;
    return { complete: outcome === "done", records, partitions, unfinished: [...endOf.keys()], elapsedMs: Date.now() - startedAt };
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await withAdmin(kafka, (admin) => admin.deleteGroups([groupId])).catch(() => undefined);
  }
}
