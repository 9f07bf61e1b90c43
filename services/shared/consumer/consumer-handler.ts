/**
 * The contract between the one consumer runner (consumer-runner.ts) and the services' event handlers.
 *
 * A handler gets one decoded, validated event and a HandlerContext whose `db` is the runner's open database
 * transaction: the handler's effect, the inbox row (written by the runner) and the outgoing events (ctx.emit ->
 * outbox rows) commit together, and only then is the Kafka offset committed. The runner may put several events of
 * one partition (in offset order) into one transaction; a handler never commits, never talks to Kafka and never
 * deduplicates by itself (the runner skips events already in the inbox).
 *
 * A handler that must call something outside the database (the payment provider) does it in `prepare`, which the
 * runner calls before the transaction opens (no network wait ever happens inside a transaction); `apply` then
 * gets its result inside the transaction. prepare must be safe to repeat (an idempotency key per event/order):
 * a retry or a redelivery calls it again.
 *
 * Failures (resilience/failure-class.ts): a CodedError with canRetry=false (PermanentError) belongs to the message
 * -> dead-letter topic at once. A DependencyUnavailableError or database outage pauses the partition until the
 * dependency is back and is never dead-lettered. Anything else is retried in-process with backoff, then
 * dead-lettered.
 */
import type { Context } from "@opentelemetry/api";
import { CodedError, type CodedErrorOptions } from "../errors/coded-error.ts";
import type { SqlExecutor } from "../db/sql.ts";
import type { EventPayloads } from "../events/event-payloads.ts";
import type { EventTopic, EventType } from "../events/topic-catalogue.ts";
import type { Logger } from "../logging/create-logger.ts";
import type { OutboxPayload } from "../outbox/outbox-write.ts";

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

export type EmitPayload<E extends EventType> = OutboxPayload<E>;

/** What prepare() gets: the pool (no transaction is open: read, never write), the logger and the attempt. */
export interface PrepareContext {
  db: SqlExecutor;
  logger: Logger;
  group: string;
  attempt: number;
}

export interface HandlerContext {
  /** The runner's open transaction; do not commit or roll back yourself (throw to roll back). */
  db: SqlExecutor;
  /**
   * Queues an outbox row written in this transaction (services/shared/outbox): logical topic from EVENT_TOPICS,
   * key = orderId, event_id (uuid v4 unless given), order_id and occurred_at added to the payload, headers = the
   * process span's traceparent/tracestate. Returns the event_id.
   */
  emit<E extends EventType>(eventType: E, orderId: string, payload: EmitPayload<E>): Promise<string>;
  /** Child of the service logger with event_id, event_type, order_id, topic, partition, offset bound. */
  logger: Logger;
  /** The consumer group processing the event. */
  group: string;
  /** 1 on the first try, 2.. on in-process retries after a transient failure. */
  attempt: number;
  /** What the definition's beginRun returned for this transaction (undefined without one). */
  run: unknown;
}

export type EventHandler<E extends EventType> = (event: EventEnvelope<EventPayloads[E]>, ctx: HandlerContext) => Promise<void>;

/** A handler with an outside call: prepare() before the transaction, apply() inside it with prepare's result. */
export interface PreparedHandler<E extends EventType> {
  readonly kind: "prepared";
  prepare(event: EventEnvelope<EventPayloads[E]>, ctx: PrepareContext): Promise<unknown>;
  apply(event: EventEnvelope<EventPayloads[E]>, ctx: HandlerContext, prepared: unknown): Promise<void>;
}

export function preparedHandler<E extends EventType, P>(
  prepare: (event: EventEnvelope<EventPayloads[E]>, ctx: PrepareContext) => Promise<P>,
  apply: (event: EventEnvelope<EventPayloads[E]>, ctx: HandlerContext, prepared: P) => Promise<void>,
): PreparedHandler<E> {
  return { kind: "prepared", prepare, apply: (event, ctx, prepared) => apply(event, ctx, prepared as P) };
}

/** Handlers by event type; events of types not listed are skipped (offset committed, no inbox row). */
export type HandlerMap = { readonly [E in EventType]?: EventHandler<E> | PreparedHandler<E> };

export interface ConsumerDefinition {
  /** Kafka consumer group id, also the inbox's consumer_group and the DLQ topic suffix (dlq.<group>). */
  group: string;
  /** Logical topics (without TOPIC_PREFIX) to subscribe to. */
  topics: readonly EventTopic[];
  handlers: HandlerMap;
  /**
   * Runs first in each transaction (also of one record), with the events about to be applied (first deliveries):
   * takes the rows the handlers will lock, in one global order (e.g. stock rows by SKU), so two transactions in
   * flight at once (another instance, a retry) wait for each other instead of deadlocking; and may read what the
   * handlers need for the whole run at once. What it returns is the handlers' ctx.run.
   */
  beginRun?: (events: readonly EventEnvelope[], db: SqlExecutor, group: string) => Promise<unknown>;
  /** Runs last in each transaction that had beginRun, after every handler: writes what they left in ctx.run. */
  finishRun?: (run: unknown, db: SqlExecutor) => Promise<void>;
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
