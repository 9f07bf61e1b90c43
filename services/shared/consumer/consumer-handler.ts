/**
 * The contract between the one consumer runner (consumer-runner.ts) and the services' event handlers.
 *
 * A handler gets one decoded, validated event and a HandlerContext whose `tx` is the runner's open database
 * transaction: the handler's effect, the inbox row (written by the runner) and the outgoing events (ctx.emit ->
 * outbox rows) commit together, and only then is the Kafka offset committed. A handler therefore never commits,
 * never talks to Kafka and never deduplicates by itself (the runner skips events already in the inbox).
 *
 * Failures: throw PermanentError (or any CodedError with canRetry=false) for a message that can never succeed ->
 * dead-letter topic at once. Anything else is transient: retried in-process with backoff, then dead-lettered.
 * A DatabaseUnavailableError (or any connection failure) pauses the partition until the database is back and is
 * never dead-lettered.
 */
import type { Context } from "@opentelemetry/api";
import { CodedError, type CodedErrorOptions } from "../errors/coded-error.ts";
import type { Prisma } from "../db/index.ts";
import type { EventPayloads } from "../events/event-payloads.ts";
import type { EventTopic, EventType } from "../events/topic-catalogue.ts";
import type { Logger } from "../logging/create-logger.ts";

/** Prisma's interactive-transaction client: everything a handler writes goes through it. */
export type TransactionClient = Prisma.TransactionClient;

/** One consumed event, decoded from Avro and checked before any handler sees it. */
export interface EventEnvelope<T = unknown> {
  eventId: string;
  eventType: EventType;
  orderId: string;
  occurredAt: Date;
  /** The Avro record as decoded: snake_case field names exactly as in schemas/<EventType>.avsc. */
  payload: T;
  /** Full topic name (with TOPIC_PREFIX). */
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string (64-bit). */
  offset: string;
  /** Message key (the order id), or null. */
  key: string | null;
  /** Kafka headers as UTF-8 text (the first value of repeated headers). */
  headers: Readonly<Record<string, string>>;
  /** OpenTelemetry context with the runner's "process" span active; its parent is the producer's traceparent. */
  traceContext: Context;
}

/** Fields emit() fills in itself; a payload may still set them (e.g. a deterministic event_id). */
type CommonFields = "event_id" | "order_id" | "occurred_at";
export type EmitPayload<E extends EventType> = Omit<EventPayloads[E], CommonFields> & Partial<Pick<EventPayloads[E], CommonFields>>;

export interface HandlerContext {
  /** The runner's open transaction; do not commit or roll back yourself (throw to roll back). */
  tx: TransactionClient;
  /**
   * Enqueues an outbox row inside `tx`: logical topic from EVENT_TOPICS, key = orderId, event_id (uuid v4 unless
   * given), order_id and occurred_at (now, epoch ms) added to the payload, headers = the process span's
   * traceparent/tracestate. Returns the event_id.
   */
  emit<E extends EventType>(eventType: E, orderId: string, payload: EmitPayload<E>): Promise<string>;
  /** Child of the service logger with event_id, event_type, order_id, topic, partition, offset bound. */
  logger: Logger;
  /** The consumer group processing the event. */
  group: string;
  /** 1 on the first try, 2.. on in-process retries after a transient failure. */
  attempt: number;
}

export type EventHandler<E extends EventType> = (event: EventEnvelope<EventPayloads[E]>, ctx: HandlerContext) => Promise<void>;

/** Handlers by event type; events of types not listed are skipped (offset committed, no inbox row). */
export type HandlerMap = { readonly [E in EventType]?: EventHandler<E> };

export interface ConsumerDefinition {
  /** Kafka consumer group id, also the inbox's consumer_group and the DLQ topic suffix (dlq.<group>). */
  group: string;
  /** Logical topics (without TOPIC_PREFIX) to subscribe to. */
  topics: readonly EventTopic[];
  handlers: HandlerMap;
}

export interface PermanentErrorOptions extends Omit<CodedErrorOptions, "detail"> {
  /** Stable code for the DLQ's error-code header, e.g. "UNKNOWN_SKU"; PERMANENT_FAILURE by default. */
  code?: string;
}

/** The message can never be processed as it is: dead-lettered at once, no retries. */
export class PermanentError extends CodedError {
  constructor(message: string, options: PermanentErrorOptions = {}) {
    const { code, ...rest } = options;
    super({ code: code ?? "PERMANENT_FAILURE", status: 422, title: "The message cannot be processed", canRetry: false }, { ...rest, detail: message });
    this.name = "PermanentError";
  }
}

/** Explicitly transient (e.g. a provider timeout): retried with backoff, then dead-lettered. */
export class TransientError extends CodedError {
  constructor(message: string, options: PermanentErrorOptions = {}) {
    const { code, ...rest } = options;
    super({ code: code ?? "TRANSIENT_FAILURE", status: 503, title: "The message could not be processed yet", canRetry: true }, { ...rest, detail: message });
    this.name = "TransientError";
  }
}

/** True for errors the runner dead-letters without retrying: any CodedError that says it cannot be retried. */
export function isPermanentFailure(error: unknown): boolean {
  return error instanceof CodedError && !error.canRetry;
}
