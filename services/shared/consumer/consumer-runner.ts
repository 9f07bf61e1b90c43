/**
 * The one consumer runner every consumer service uses. Per message: decode -> (inbox insert + handler effect +
 * outbox rows) in one database transaction -> resolve and commit the offset. Transient failures are retried with
 * backoff and jitter, then dead-lettered; poison input is dead-lettered at once; a database outage pauses the
 * partition (never dead-letters) and resumes with bounded backoff. See consumer-handler.ts for the handler side.
 */
import type { Context, Span } from "@opentelemetry/api";
import { backoffDelay, sleep, type BackoffPolicy } from "../resilience/backoff.ts";
import type { SchemaRegistry } from "../avro/schema-registry.ts";
import { mapDatabaseErrors, type PrismaClient } from "../db/index.ts";
import { classifyFailure } from "../resilience/failure-class.ts";
import { isEventType, type EventType } from "../events/topic-catalogue.ts";
import { ensureTopics, withAdmin } from "../kafka/kafka-admin.ts";
import { createConsumer } from "../kafka/kafka-consumer.ts";
import { createProducer } from "../kafka/kafka-client.ts";
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from "../kafka/kafka-types.ts";
import type { Logger } from "../logging/create-logger.ts";
import { type ConsumerDefinition, type EventEnvelope, type EventHandler, type HandlerContext, type PreparedHandler } from "./consumer-handler.ts";
import { endProcessSpan, startProcessSpan, withSpanContext } from "./consumer-span.ts";
import { deadLetterMessage, errorCodeOf } from "./dead-letter.ts";
import { decodeRecord, headersAsText, type DecodedEvent, type RawRecord } from "./message-decoder.ts";
import { bufferedEmit, prismaExecutor } from "./transaction-context.ts";
import { insertOutboxRows, type OutboxRow } from "../outbox/outbox-write.ts";
import { sql, type SqlExecutor } from "../db/sql.ts";

export interface RunnerOptions {
  /** Full topic name of a logical one (applies TOPIC_PREFIX). */
  topicName: (logical: string) => string;
  maxWaitTimeInMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  partitionsConcurrency: number;
  /** Tries per message for transient failures before it is dead-lettered. */
  maxAttempts: number;
  retryBackoff: BackoffPolicy;
  /** Delay before a partition paused by a database outage is resumed (grows while the outage lasts). */
  pauseBackoff: BackoffPolicy;
  transactionTimeoutMs: number;
  shutdownGraceMs: number;
  /** Partitions and replication of topics the runner creates when missing (its DLQ topic, subscriptions). */
  topicPartitions: number;
  replicationFactor: number;
}

export interface RunnerDeps {
  kafka: Kafka;
  prisma: PrismaClient;
  registry: SchemaRegistry;
  logger: Logger;
  /** For error messages only (never logged with its password). */
  databaseUrl?: string;
}

export type MessageOutcome = "processed" | "duplicate" | "skipped" | "dead-lettered";

/** What happened to one message, for tests and metrics. */
export interface OutcomeRecord {
  outcome: MessageOutcome;
  topic: string;
  partition: number;
  offset: string;
  eventId?: string;
  eventType?: string;
  attempts: number;
}

type HandleResult = { kind: "done"; record: OutcomeRecord } | { kind: "pause"; reason: unknown } | { kind: "abandon" };

interface Failure {
  error: unknown;
  attempts: number;
  firstFailureAt: Date;
}

export class ConsumerRunner {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly log: Logger;
  private readonly stopSignal = new AbortController();
  private readonly pauseCounts = new Map<string, number>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private readonly listeners = new Set<(record: OutcomeRecord) => void>();
  private readonly pauseListeners = new Set<(topic: string, partition: number) => void>();
  private stopping: Promise<void> | undefined;
  private crashed: ((error: Error) => void) | undefined;

  constructor(
    private readonly definition: ConsumerDefinition,
    private readonly deps: RunnerDeps,
    private readonly options: RunnerOptions,
  ) {
    this.log = deps.logger.child({ consumerGroup: definition.group });
    this.consumer = createConsumer(deps.kafka, {
      // TOPIC_PREFIX also prefixes the Kafka group id, so environments (and test files) sharing a broker never
      // share a group. The inbox key stays the logical group name.
      groupId: this.groupId,
      maxWaitTimeInMs: options.maxWaitTimeInMs,
      sessionTimeoutMs: options.sessionTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
    });
    this.producer = createProducer(deps.kafka, { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  /** The Kafka consumer group id: the logical group with TOPIC_PREFIX. */
  get groupId(): string {
    return this.options.topicName(this.definition.group);
  }

  get dlqTopic(): string {
    return this.options.topicName(`dlq.${this.definition.group}`);
  }

  get subscribedTopics(): string[] {
    return this.definition.topics.map((topic) => this.options.topicName(topic));
  }

  /** Called with every message's outcome (tests wait on these; services may count them). */
  onOutcome(listener: (record: OutcomeRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called each time a partition is paused because the database is unavailable. */
  onPause(listener: (topic: string, partition: number) => void): () => void {
    this.pauseListeners.add(listener);
    return () => this.pauseListeners.delete(listener);
  }

  /** Called when kafkajs gives up on the consumer for good (not for retried failures): the process should exit. */
  onFatal(listener: (error: Error) => void): void {
    this.crashed = listener;
  }

  async start(): Promise<void> {
    const specs = [...this.subscribedTopics, this.dlqTopic].map((topic) => ({
      topic,
      numPartitions: this.options.topicPartitions,
      replicationFactor: this.options.replicationFactor,
    }));
    await withAdmin(this.deps.kafka, (admin) => ensureTopics(admin, specs));
    await this.producer.connect();
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.log.error({ err: payload.error, restart: payload.restart }, "consumer crashed");
      if (!payload.restart) this.crashed?.(payload.error);
    });
    await this.consumer.subscribe({ topics: this.subscribedTopics, fromBeginning: true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      // Offsets are resolved one by one after each transaction commits; they are committed every 100 messages or
      // second and at the end of each batch. A crash re-delivers at most that much, which the inbox skips.
      autoCommitThreshold: 100,
      autoCommitInterval: 1_000,
      partitionsConsumedConcurrently: this.options.partitionsConcurrency,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.log.info({ topics: this.subscribedTopics, dlq: this.dlqTopic }, "consumer started");
  }

  /**
   * Graceful stop: no new message starts, the one in flight finishes, resolved offsets are committed and the
   * member leaves the group (so its partitions move at once), all within shutdownGraceMs. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopSignal.abort();
    for (const timer of this.resumeTimers) clearTimeout(timer);
    this.resumeTimers.clear();
    const grace = this.options.shutdownGraceMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), grace)));
    const result = await Promise.race([
      this.consumer.disconnect().then(() => this.producer.disconnect()).then(() => "done" as const),
      deadline,
    ]);
    clearTimeout(timer);
    if (result === "timeout") this.log.warn({ graceMs: grace }, "consumer did not stop within the grace period");
    else this.log.info("consumer stopped and left the group");
  }

  /** Reads outside any transaction (a handler's prepare step). */
  private get poolDb(): SqlExecutor {
    return prismaExecutor(this.deps.prisma);
  }

  private get isStopping(): boolean {
    return this.stopSignal.signal.aborted;
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    for (const message of batch.messages) {
      if (this.isStopping || !payload.isRunning() || payload.isStale()) return;
      const record = toRawRecord(batch.topic, batch.partition, message);
      const result = await this.handle(record, payload.heartbeat);
      if (result.kind === "abandon") return;
      if (result.kind === "pause") {
        this.pausePartition(record, payload.pause, result.reason);
        return;
      }
      this.pauseCounts.delete(partitionKey(record));
      payload.resolveOffset(message.offset);
      await payload.commitOffsetsIfNecessary();
      await payload.heartbeat();
      this.notify(result.record);
    }
  }

  /** The unresolved message is fetched again after the resume: nothing is skipped and nothing dead-lettered. */
  private pausePartition(record: RawRecord, pause: () => () => void, reason: unknown): void {
    const key = partitionKey(record);
    const count = (this.pauseCounts.get(key) ?? 0) + 1;
    this.pauseCounts.set(key, count);
    const delay = backoffDelay(count, this.options.pauseBackoff);
    const resume = pause();
    for (const listener of this.pauseListeners) listener(record.topic, record.partition);
    this.log.warn({ topic: record.topic, partition: record.partition, offset: record.offset, delayMs: delay, code: errorCodeOf(reason), reason: reason instanceof Error ? reason.message : String(reason) }, "dependency unavailable: partition paused");
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      if (!this.isStopping) resume();
    }, delay);
    this.resumeTimers.add(timer);
  }

  /** One message through its attempts, under one process span. */
  private async handle(record: RawRecord, heartbeat: () => Promise<void>): Promise<HandleResult> {
    const { span, context } = startProcessSpan(record, this.definition.group);
    let failure: Failure | undefined;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const done = await this.keepingHeartbeats(heartbeat, () => withSpanContext(context, () => this.processOnce(record, attempt, span, context)));
        endProcessSpan(span, done.outcome);
        return { kind: "done", record: done };
      } catch (error) {
        const kind = classifyFailure(error);
        if (kind === "outage") {
          endProcessSpan(span, "paused", error);
          return { kind: "pause", reason: error };
        }
        failure = { error, attempts: attempt, firstFailureAt: failure?.firstFailureAt ?? new Date() };
        if (kind === "message" || attempt >= this.options.maxAttempts) return this.deadLetter(record, failure, span);
        this.log.warn({ topic: record.topic, partition: record.partition, offset: record.offset, attempt, err: error }, "transient failure, retrying");
        await this.waitWithHeartbeats(backoffDelay(attempt, this.options.retryBackoff), heartbeat);
        if (this.isStopping) {
          endProcessSpan(span, "abandoned", error);
          return { kind: "abandon" };
        }
      }
    }
  }

  private async processOnce(record: RawRecord, attempt: number, span: Span, traceContext: Context): Promise<OutcomeRecord> {
    const base = { topic: record.topic, partition: record.partition, offset: record.offset, attempts: attempt };
    const decoded = await decodeRecord(this.deps.registry, record);
    span.setAttributes({ "messaging.message.id": decoded.eventId, "orderflow.event_type": decoded.eventType, "order.id": decoded.orderId });
    const ids = { ...base, eventId: decoded.eventId, eventType: decoded.eventType };
    const handler = isEventType(decoded.eventType) ? this.definition.handlers[decoded.eventType] : undefined;
    if (handler === undefined) return { ...ids, outcome: "skipped" };
    const envelope = toEnvelope(record, decoded, traceContext);
    const logger = this.log.child({ event_id: decoded.eventId, event_type: decoded.eventType, order_id: decoded.orderId, topic: record.topic, partition: record.partition, offset: record.offset });
    const spec = handler as EventHandler<EventType> | PreparedHandler<EventType>;
    const prepared = typeof spec === "function" ? undefined : await spec.prepare(envelope, { db: this.poolDb, logger, group: this.definition.group, attempt });
    const outcome = await mapDatabaseErrors(
      () =>
        this.deps.prisma.$transaction(
          async (tx) => {
            const db = prismaExecutor(tx);
            const inserted = await db.execute(sql`INSERT INTO inbox (consumer_group, event_id) VALUES (${this.definition.group}, ${decoded.eventId}::uuid) ON CONFLICT DO NOTHING`);
            if (inserted === 0) return "duplicate" as const;
            const rows: OutboxRow[] = [];
            const ctx: HandlerContext = { db, emit: bufferedEmit(rows, traceContext), logger, group: this.definition.group, attempt };
            if (typeof spec === "function") await spec(envelope, ctx);
            else await spec.apply(envelope, ctx, prepared);
            await insertOutboxRows(db, rows);
            return "processed" as const;
          },
          { timeout: this.options.transactionTimeoutMs, maxWait: this.options.transactionTimeoutMs },
        ),
      this.deps.databaseUrl,
    );
    return { ...ids, outcome };
  }

  /** Sends the original record with the error headers to dlq.<group>; a Kafka failure pauses the partition instead. */
  private async deadLetter(record: RawRecord, failure: Failure, span: Span): Promise<HandleResult> {
    try {
      await this.producer.send({ topic: this.dlqTopic, acks: -1, messages: [deadLetterMessage(record, this.definition.group, failure)] });
    } catch (error) {
      endProcessSpan(span, "paused", error);
      return { kind: "pause", reason: error };
    }
    this.log.error(
      { topic: record.topic, partition: record.partition, offset: record.offset, attempts: failure.attempts, code: errorCodeOf(failure.error), err: failure.error, dlq: this.dlqTopic },
      "message dead-lettered",
    );
    endProcessSpan(span, "dead-lettered", failure.error);
    return { kind: "done", record: { topic: record.topic, partition: record.partition, offset: record.offset, attempts: failure.attempts, outcome: "dead-lettered" } };
  }

  /**
   * kafkajs heartbeats only when asked: a slow handler (a payment provider call) must not get the member thrown
   * out of the group mid-message. A failed heartbeat here (e.g. a rebalance started) is ignored: the heartbeat
   * after the message reports it to kafkajs, which then rejoins.
   */
  private async keepingHeartbeats<T>(heartbeat: () => Promise<void>, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => void heartbeat().catch(() => undefined), this.options.heartbeatIntervalMs);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  /** Backoff that keeps the group membership alive (a retrying member must not be kicked out mid-wait). */
  private async waitWithHeartbeats(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (!this.isStopping && Date.now() < until) {
      await sleep(Math.min(this.options.heartbeatIntervalMs, until - Date.now()), this.stopSignal.signal);
      await heartbeat();
    }
  }

  private notify(record: OutcomeRecord): void {
    for (const listener of this.listeners) listener(record);
  }
}

function partitionKey(record: Pick<RawRecord, "topic" | "partition">): string {
  return `${record.topic}:${record.partition}`;
}

function toRawRecord(topic: string, partition: number, message: KafkaMessage): RawRecord {
  return { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: headersAsText(message.headers) };
}

function toEnvelope(record: RawRecord, decoded: DecodedEvent, traceContext: EventEnvelope["traceContext"]): EventEnvelope<never> {
  return {
    eventId: decoded.eventId,
    eventType: decoded.eventType as EventType,
    orderId: decoded.orderId,
    occurredAt: decoded.occurredAt,
    payload: decoded.payload as never,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key?.toString("utf8") ?? null,
    headers: record.headers,
    traceContext,
  };
}
