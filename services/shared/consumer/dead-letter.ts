import { CodedError } from "../errors/coded-error.ts";
import type { Message } from "../kafka/kafka-types.ts";
import type { RawRecord } from "./message-decoder.ts";

/** Headers the runner adds to a dead-lettered record (the original headers are kept beside them). */
export const DLQ_HEADERS = {
  originalTopic: "dlq-original-topic",
  originalPartition: "dlq-original-partition",
  originalOffset: "dlq-original-offset",
  consumerGroup: "dlq-consumer-group",
  errorMessage: "dlq-error-message",
  errorCode: "dlq-error-code",
  attempts: "dlq-attempts",
  firstFailureAt: "dlq-first-failure-at",
  deadLetteredAt: "dlq-dead-lettered-at",
} as const;

const DLQ_HEADER_PREFIX = "dlq-";
const MAX_ERROR_MESSAGE = 2_000;

export interface DeadLetterFailure {
  error: unknown;
  attempts: number;
  firstFailureAt: Date;
}

export function errorCodeOf(error: unknown): string {
  if (error instanceof CodedError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.length > 0 ? code : "UNHANDLED_ERROR";
}

function errorMessageOf(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}…` : message;
}

/** The original key, value and headers, plus where it came from and why it failed. */
export function deadLetterMessage(record: RawRecord, group: string, failure: DeadLetterFailure, now = new Date()): Message {
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...originalHeaders(record.headers),
      [DLQ_HEADERS.originalTopic]: record.topic,
      [DLQ_HEADERS.originalPartition]: String(record.partition),
      [DLQ_HEADERS.originalOffset]: record.offset,
      [DLQ_HEADERS.consumerGroup]: group,
      [DLQ_HEADERS.errorMessage]: errorMessageOf(failure.error),
      [DLQ_HEADERS.errorCode]: errorCodeOf(failure.error),
      [DLQ_HEADERS.attempts]: String(failure.attempts),
      [DLQ_HEADERS.firstFailureAt]: failure.firstFailureAt.toISOString(),
      [DLQ_HEADERS.deadLetteredAt]: now.toISOString(),
    },
  };
}

/** Headers without the runner's dlq-* ones: what a replay sends back to the original topic. */
export function originalHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(DLQ_HEADER_PREFIX)));
}
