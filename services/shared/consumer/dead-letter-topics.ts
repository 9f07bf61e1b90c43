/**
 * Reading and replaying dead-letter topics (dlq.<group>): one code path for `npm run dlq` and the live console's
 * dead-letter browser. Reads are bounded (newest `maxLetters` per partition, a deadline); a replay sends the
 * original key, value and headers back to the original topic, where the group processes them again (its inbox
 * makes a second replay of the same letter a duplicate, not a second effect).
 */
import { randomUUID } from "node:crypto";
import { defineError } from "../errors/coded-error.ts";
import { fetchTopicOffsets, withAdmin, type PartitionOffsets } from "../kafka/kafka-admin.ts";
import { createProducer } from "../kafka/kafka-client.ts";
import type { Consumer, Kafka } from "../kafka/kafka-types.ts";
import { withTimeout } from "../resilience/with-timeout.ts";
import { DLQ_HEADERS, originalHeaders } from "./dead-letter.ts";
import { headersAsText } from "./message-decoder.ts";

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface DeadLetterRead {
  topic: string;
  /** Letters on the topic (sum over partitions of high - low watermark) when the read started. */
  depth: number;
  /** The newest letters, at most maxLetters per partition, by partition then offset. */
  letters: DeadLetter[];
  /** True when older letters were left out by maxLetters. */
  truncated: boolean;
}

export interface ReadLimits {
  /** Newest letters kept per partition (all when omitted: the CLI lists everything). */
  maxLetters?: number;
  /** Bound on the whole read, including joining the throw-away group. */
  timeoutMs?: number;
  /** Read just this letter (a replay of one), wherever it is in its partition. */
  only?: { partition: number; offset: number };
}

/** The read did not reach the topic's end in time (the broker is slow or down); retrying may succeed. */
export const DeadLetterReadTimeoutError = defineError({
  code: "DEAD_LETTER_READ_TIMEOUT",
  status: 503,
  title: "Reading the dead-letter topic took too long",
  canRetry: true,
});
/** No letter at the asked position (among those read). */
export const DeadLetterNotFoundError = defineError({ code: "DEAD_LETTER_NOT_FOUND", status: 404, title: "No such dead letter" });
/** The selection is incomplete or ambiguous (an offset in several partitions). */
export const DeadLetterSelectionError = defineError({
  code: "DEAD_LETTER_SELECTION_INVALID",
  status: 400,
  title: "The dead-letter selection is incomplete or ambiguous",
});
/** A letter without the header naming its original topic cannot be sent back. */
export const DeadLetterNotReplayableError = defineError({
  code: "DEAD_LETTER_NOT_REPLAYABLE",
  status: 422,
  title: "The dead letter does not name its original topic",
});

const DEFAULT_READ_TIMEOUT_MS = 30_000;
const REPLAY_TIMEOUT_MS = 30_000;

/** Dead-letter topics on the broker for a TOPIC_PREFIX (one per consumer group that ever dead-lettered). */
export async function listDeadLetterTopics(kafka: Kafka, prefix: string): Promise<string[]> {
  const topics = await withAdmin(kafka, (admin) => admin.listTopics());
  return topics.filter((topic) => topic.startsWith(`${prefix}dlq.`) && !topic.slice(prefix.length + 4).includes(".")).sort();
}

/** Where each partition's read starts and ends: the newest maxLetters below the high watermark, or just `only`. */
export function readPlan(
  offsets: readonly PartitionOffsets[],
  limits: Pick<ReadLimits, "maxLetters" | "only"> = {},
): Map<number, { start: number; end: number }> {
  const plan = new Map<number, { start: number; end: number }>();
  for (const { partition, low, high } of offsets) {
    if (high <= low) continue;
    if (limits.only !== undefined) {
      const { offset } = limits.only;
      if (limits.only.partition === partition && offset >= low && offset < high) plan.set(partition, { start: offset, end: offset + 1 });
      continue;
    }
    plan.set(partition, { start: limits.maxLetters === undefined ? low : Math.max(low, high - limits.maxLetters), end: high });
  }
  return plan;
}

/**
 * The letters of a topic, read with a throw-away group from each partition's planned start to its high watermark
 * as it was when the read started; the group never commits and is deleted afterwards.
 */
export async function readDeadLetters(kafka: Kafka, topic: string, limits: ReadLimits = {}): Promise<DeadLetterRead> {
  const offsets = await withAdmin(kafka, (admin) => fetchTopicOffsets(admin, topic));
  const plan = readPlan(offsets, limits);
  const depth = offsets.reduce((sum, p) => sum + Math.max(0, p.high - p.low), 0);
  const truncated =
    limits.only === undefined && [...plan.entries()].some(([partition, range]) => range.start > (offsets.find((p) => p.partition === partition)?.low ?? 0));
  if (plan.size === 0) return { topic, depth, letters: [], truncated: false };
  const timeoutMs = limits.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const groupId = `dlq-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  try {
    const letters = await withTimeout(
      consumeRange(consumer, topic, plan),
      timeoutMs,
      () => new DeadLetterReadTimeoutError({ detail: `reading ${topic} did not finish within ${timeoutMs} ms` }),
    );
    return { topic, depth, letters: letters.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset)), truncated };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await withAdmin(kafka, (admin) => admin.deleteGroups([groupId])).catch(() => undefined);
  }
}

async function consumeRange(consumer: Consumer, topic: string, plan: Map<number, { start: number; end: number }>): Promise<DeadLetter[]> {
  const pending = new Set(plan.keys());
  const records: DeadLetter[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  return new Promise<DeadLetter[]>((resolve, reject) => {
    // Skip the older letters instead of reading them: each partition starts at its planned offset.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const [partition, { start }] of plan) consumer.seek({ topic, partition, offset: String(start) });
    });
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const range = plan.get(partition);
          const offset = Number(message.offset);
          if (range === undefined || !pending.has(partition)) return;
          if (offset >= range.start && offset < range.end) {
            records.push({ topic, partition, offset: message.offset, key: message.key, value: message.value, headers: headersAsText(message.headers) });
          }
          if (offset >= range.end - 1) pending.delete(partition);
          if (pending.size === 0) resolve(records);
        },
      })
      .catch(reject);
  });
}

/** Sends each dead letter's original key, value and headers back to its original topic; returns how many. */
export async function replayDeadLetters(kafka: Kafka, letters: readonly DeadLetter[], timeoutMs = REPLAY_TIMEOUT_MS): Promise<number> {
  for (const letter of letters) {
    if (!letter.headers[DLQ_HEADERS.originalTopic])
      throw new DeadLetterNotReplayableError({ detail: `${letter.topic}/${letter.partition}@${letter.offset} has no ${DLQ_HEADERS.originalTopic} header` });
  }
  const producer = createProducer(kafka, { allowAutoTopicCreation: false });
  const send = async (): Promise<void> => {
    await producer.connect();
    for (const letter of letters) {
      await producer.send({
        topic: letter.headers[DLQ_HEADERS.originalTopic]!,
        acks: -1,
        messages: [{ key: letter.key, value: letter.value, headers: { ...originalHeaders(letter.headers), "replayed-from": replayedFrom(letter) } }],
      });
    }
  };
  try {
    await withTimeout(
      send(),
      timeoutMs,
      () => new DeadLetterReadTimeoutError({ detail: `replaying ${letters.length} letter(s) did not finish within ${timeoutMs} ms` }),
    );
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  return letters.length;
}

/** The `replayed-from` header a replay adds: where the letter was in its dead-letter topic. */
export function replayedFrom(letter: Pick<DeadLetter, "topic" | "partition" | "offset">): string {
  return `${letter.topic}/${letter.partition}@${letter.offset}`;
}

/** The letters a replay selects: all, or the one at `offset` (and `partition` when the offset is ambiguous). */
export function selectLetters(letters: readonly DeadLetter[], selection: { all: boolean; offset?: string; partition?: number }): DeadLetter[] {
  if (selection.all) return [...letters];
  if (selection.offset === undefined)
    throw new DeadLetterSelectionError({ detail: "replay needs an offset (and a partition when several partitions have it) or all" });
  const matches = letters.filter((l) => l.offset === selection.offset && (selection.partition === undefined || l.partition === selection.partition));
  if (matches.length === 0)
    throw new DeadLetterNotFoundError({
      detail: `no dead letter at offset ${selection.offset}${selection.partition === undefined ? "" : ` in partition ${selection.partition}`}`,
    });
  if (matches.length > 1)
    throw new DeadLetterSelectionError({
      detail: `offset ${selection.offset} exists in partitions ${matches.map((m) => m.partition).join(", ")}: name the partition`,
    });
  return matches;
}

/** One human-readable block per dead letter. */
export function describeLetter(letter: DeadLetter): string {
  const h = letter.headers;
  return [
    `${letter.topic} partition ${letter.partition} offset ${letter.offset}  key=${letter.key?.toString("utf8") ?? "(none)"}`,
    `  from      ${h[DLQ_HEADERS.originalTopic] ?? "?"} partition ${h[DLQ_HEADERS.originalPartition] ?? "?"} offset ${h[DLQ_HEADERS.originalOffset] ?? "?"} (group ${h[DLQ_HEADERS.consumerGroup] ?? "?"})`,
    `  error     ${h[DLQ_HEADERS.errorCode] ?? "?"}: ${h[DLQ_HEADERS.errorMessage] ?? "?"}`,
    `  attempts  ${h[DLQ_HEADERS.attempts] ?? "?"}, first failure ${h[DLQ_HEADERS.firstFailureAt] ?? "?"}, dead-lettered ${h[DLQ_HEADERS.deadLetteredAt] ?? "?"}`,
    `  event     ${h["event-type"] ?? "(no event-type header)"} ${h["event-id"] ?? ""}  ${letter.value?.length ?? 0} bytes`,
  ].join("\n");
}
