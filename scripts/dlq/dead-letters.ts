// Reading and replaying dead-letter topics (dlq.<group>): what `npm run dlq` does, usable from tests.
import { randomUUID } from "node:crypto";
import { DLQ_HEADERS, originalHeaders } from "../../services/shared/consumer/dead-letter.ts";
import { headersAsText } from "../../services/shared/consumer/message-decoder.ts";
import { fetchTopicOffsets, withAdmin } from "../../services/shared/kafka/kafka-admin.ts";
import { createProducer } from "../../services/shared/kafka/kafka-client.ts";
import type { Kafka } from "../../services/shared/kafka/kafka-types.ts";

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Thrown for bad CLI input or a replay target that cannot be found; the message is meant for the user. */
export class DlqCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DlqCommandError";
  }
}

/** Dead-letter topics on the broker for a TOPIC_PREFIX (one per consumer group that ever dead-lettered). */
export async function listDeadLetterTopics(kafka: Kafka, prefix: string): Promise<string[]> {
  const topics = await withAdmin(kafka, (admin) => admin.listTopics());
  return topics.filter((topic) => topic.startsWith(`${prefix}dlq.`) && !topic.slice(prefix.length + 4).includes(".")).sort();
}

/**
 * Every record of a topic, read with a throwaway group from the low to the high watermark of each partition as
 * they were when the read started (bounded by timeoutMs). The group is deleted afterwards.
 */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<DeadLetter[]> {
  const offsets = await withAdmin(kafka, (admin) => fetchTopicOffsets(admin, topic));
  const pending = new Map(offsets.filter((p) => p.high > p.low).map((p) => [p.partition, p.high]));
  if (pending.size === 0) return [];
  const groupId = `dlq-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const records: DeadLetter[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new DlqCommandError(`reading ${topic} did not finish within ${timeoutMs} ms`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const end = pending.get(partition);
          if (end === undefined) return;
          if (Number(message.offset) < end) {
            records.push({ topic, partition, offset: message.offset, key: message.key, value: message.value, headers: headersAsText(message.headers) });
          }
          if (Number(message.offset) >= end - 1) pending.delete(partition);
          if (pending.size === 0) resolve();
        },
      });
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    await withAdmin(kafka, (admin) => admin.deleteGroups([groupId])).catch(() => undefined);
  }
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

/** Sends each dead letter's original key, value and headers back to its original topic; returns how many. */
export async function replayDeadLetters(kafka: Kafka, letters: readonly DeadLetter[]): Promise<number> {
  const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (const letter of letters) {
      const target = letter.headers[DLQ_HEADERS.originalTopic];
      if (!target) throw new DlqCommandError(`${letter.topic}/${letter.partition}@${letter.offset} has no ${DLQ_HEADERS.originalTopic} header`);
      await producer.send({
        topic: target,
        acks: -1,
        messages: [{ key: letter.key, value: letter.value, headers: { ...originalHeaders(letter.headers), "replayed-from": `${letter.topic}/${letter.partition}@${letter.offset}` } }],
      });
    }
  } finally {
    await producer.disconnect();
  }
  return letters.length;
}

/** The letters a replay selects: all, or the one at --offset (and --partition when the offset is ambiguous). */
export function selectLetters(letters: readonly DeadLetter[], selection: { all: boolean; offset?: string; partition?: number }): DeadLetter[] {
  if (selection.all) return [...letters];
  if (selection.offset === undefined) throw new DlqCommandError("replay needs --offset <o> (and --partition <p> when several partitions have it) or --all");
  const matches = letters.filter((l) => l.offset === selection.offset && (selection.partition === undefined || l.partition === selection.partition));
  if (matches.length === 0) throw new DlqCommandError(`no dead letter at offset ${selection.offset}${selection.partition === undefined ? "" : ` in partition ${selection.partition}`}`);
  if (matches.length > 1) throw new DlqCommandError(`offset ${selection.offset} exists in partitions ${matches.map((m) => m.partition).join(", ")}: add --partition`);
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
