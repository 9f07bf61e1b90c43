/**
 * The one consumer runner every consumer service uses. Per fetched batch of a partition, in runs of at most
 * batchSize records: one database transaction applies the whole run (batch-transaction.ts: inbox rows, effects,
 * outbox rows), then the offsets are resolved and committed (never before the transaction commits). A run that
 * fails is retried record by record, each with its own attempts (failure-class.ts decides): a dependency outage
 * pauses the partition with backoff and never dead-letters; a failure that belongs to the message dead-letters it
 * at once; anything else is retried with backoff and jitter, then dead-lettered. See consumer-handler.ts for the
 * handler side.
 */
import { ConsumerStalledError, FETCH_TIMEOUTS_BEFORE_RESTART, FetchStall } from "./fetch-stall.ts";
import type pg from "pg";
import { backoffDelay, sleep, type BackoffPolicy } from "../resilience/backoff.ts";
import type { SchemaRegistry } from "../avro/schema-registry.ts";
import { classifyFailure } from "../resilience/failure-class.ts";
import { ensureTopics, withAdmin } from "../kafka/kafka-admin.ts";
import { createConsumer } from "../kafka/kafka-consumer.ts";
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "../kafka/kafka-types.ts";
import type { Logger } from "../logging/create-logger.ts";
import {
  applyRecord,
  applyRecords,
  createTransactionCoalescer,
  type BatchDeps,
  type OutcomeRecord,
  type TracedRecord,
  type TransactionCoalescer,
} from "./batch-transaction.ts";
import type { ConsumerDefinition } from "./consumer-handler.ts";
import { endProcessSpan, startProcessSpan } from "./consumer-span.ts";
import { deadLetterMessage, errorCodeOf } from "./dead-letter.ts";
import { DeadLetterSender } from "./dead-letter-sender.ts";
import { headersAsText, type RawRecord } from "./message-decoder.ts";
import { OffsetCommitter, type CommitOffsets } from "./offset-committer.ts";

export type { MessageOutcome, OutcomeRecord } from "./batch-transaction.ts";

export interface RunnerOptions {
  /** Full topic name of a logical one (applies TOPIC_PREFIX). */
  topicName: (logical: string) => string;
  maxWaitTimeInMs: number;
  /** The broker holds a fetch until this much data is there (or maxWaitTimeInMs passed): bigger runs, fewer fetches. */
  minBytes: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  partitionsConcurrency: number;
  /** Most records of one partition applied in one transaction. */
  batchSize: number;
  /** Longest a ready run waits for the runs of other partitions still being prepared, to share their transaction. */
  lingerMs: number;
  /** Offsets are committed together: every commitIntervalMs, or when this many records wait. */
  commitIntervalMs: number;
  commitThreshold: number;
  /** Tries per message for transient failures before it is dead-lettered. */
  maxAttempts: number;
  retryBackoff: BackoffPolicy;
  /** Delay before a partition paused by a dependency outage is resumed (grows while the outage lasts). */
  pauseBackoff: BackoffPolicy;
  shutdownGraceMs: number;
  /** Partitions and replication of topics the runner creates when missing (its DLQ topic, subscriptions). */
  topicPartitions: number;
  replicationFactor: number;
}

export interface RunnerDeps {
  kafka: Kafka;
  pool: pg.Pool;
  registry: SchemaRegistry;
  logger: Logger;
  /** For error messages only (never logged with its password). */
  databaseUrl?: string;
}

type HandleResult = { kind: "done"; record: OutcomeRecord } | { kind: "pause"; reason: unknown } | { kind: "abandon" };

interface Failure {
  error: unknown;
  attempts: number;
  firstFailureAt: Date;
}

/** Outside calls of one run in flight at once (payment authorizations). */
const PREPARE_CONCURRENCY = 32;
/** Most records in one transaction shared by several partitions' runs. */
const MAX_RECORDS_PER_TRANSACTION = 1_000;

export class ConsumerRunner {
  private readonly consumer: Consumer;
  private readonly deadLetters: DeadLetterSender;
  private readonly log: Logger;
  private readonly batchDeps: BatchDeps;
  private readonly coalescer: TransactionCoalescer;
  private readonly committer: OffsetCommitter;
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
      minBytes: options.minBytes,
      sessionTimeoutMs: options.sessionTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
    });
    this.deadLetters = new DeadLetterSender(deps.kafka, this.log);
    const { pool, registry, databaseUrl } = deps;
    this.batchDeps = { pool, registry, logger: this.log, definition, prepareConcurrency: PREPARE_CONCURRENCY, ...(databaseUrl ? { databaseUrl } : {}) };
    this.coalescer = createTransactionCoalescer(this.batchDeps, {
      lingerMs: options.lingerMs,
      maxRecords: Math.max(MAX_RECORDS_PER_TRANSACTION, options.batchSize),
    });
    this.committer = new OffsetCommitter(this.consumer, this.log, { intervalMs: options.commitIntervalMs, threshold: options.commitThreshold });
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

  /** Called each time a partition is paused because a dependency is unavailable. */
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
    await this.deadLetters.connect();
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.log.error({ err: payload.error, restart: payload.restart }, "consumer crashed");
      if (!payload.restart) this.crashed?.(payload.error);
    });
    this.watchForStalledFetches();
    await this.consumer.subscribe({ topics: this.subscribedTopics, fromBeginning: true });
    this.committer.start();
    await this.consumer.run({
      eachBatchAutoResolve: false,
      // Offsets are resolved after each transaction commits and committed by the OffsetCommitter (interval,
      // threshold, stop, rebalance): kafkajs' autoCommit would commit after every batch of every partition.
      autoCommit: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrency,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.log.info({ topics: this.subscribedTopics, dlq: this.dlqTopic }, "consumer started");
  }

  /** Fetches that keep timing out even on new connections: see fetch-stall.ts. */
  private watchForStalledFetches(): void {
    const stall = new FetchStall();
    this.consumer.on(this.consumer.events.FETCH, () => stall.answered());
    this.consumer.on(this.consumer.events.REQUEST_TIMEOUT, ({ payload }) => {
      if (payload.apiName !== "Fetch" || this.isStopping || !stall.timedOut()) return;
      const detail = `${FETCH_TIMEOUTS_BEFORE_RESTART} fetches in a row from ${payload.broker} timed out, the later ones on new connections`;
      this.crashed?.(new ConsumerStalledError({ detail, context: { broker: payload.broker, group: this.groupId } }));
    });
  }

  /**
   * Graceful stop: no new run starts, the one in flight finishes, resolved offsets are committed and the member
   * leaves the group (so its partitions move at once), all within shutdownGraceMs. Safe to call twice.
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
    // The run in flight commits what it applied when it ends (onBatch); this commits what waited before.
    await this.committer.flush();
    this.committer.stop();
    const result = await Promise.race([
      this.consumer
        .disconnect()
        .then(() => this.deadLetters.disconnect())
        .then(() => "done" as const),
      deadline,
    ]);
    clearTimeout(timer);
    if (result === "timeout") this.log.warn({ graceMs: grace }, "consumer did not stop within the grace period");
    else this.log.info("consumer stopped and left the group");
  }

  private get isStopping(): boolean {
    return this.stopSignal.signal.aborted;
  }

  private canContinue(payload: EachBatchPayload): boolean {
    return !this.isStopping && payload.isRunning() && !payload.isStale();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    try {
      const { batch } = payload;
      for (let start = 0; start < batch.messages.length; start += this.options.batchSize) {
        if (!this.canContinue(payload)) return;
        const records = batch.messages
          .slice(start, start + this.options.batchSize)
          .map((m) => tracedRecord(toRawRecord(batch.topic, batch.partition, m), this.definition.group));
        if (!(await this.applyRuns(records, payload))) return;
      }
    } finally {
      // Stopping: kafkajs leaves the group once this batch returns, and a commit after that is refused.
      if (this.isStopping) await this.committer.flush(commitThrough(payload));
    }
  }

  /**
   * The fast path: as much of the records as possible in one transaction, then the rest as the next run. What a
   * run could not apply because something failed (an outside call, or the transaction itself) goes the careful
   * path, one record at a time.
   */
  private async applyRuns(records: TracedRecord[], payload: EachBatchPayload): Promise<boolean> {
    let rest = records;
    while (rest.length > 0) {
      if (!this.canContinue(payload)) return this.abandon(rest);
      const run = rest;
      try {
        const result = await this.keepingHeartbeats(payload.heartbeat, () => applyRecords(this.batchDeps, run, 1, this.coalescer));
        result.outcomes.forEach((outcome, i) => endProcessSpan(run[i]!.span, outcome.outcome));
        await this.settle(payload, result.outcomes);
        rest = result.stoppedAt ? run.slice(result.stoppedAt.index) : [];
        // The record whose outside call failed takes the careful path alone; the records behind it go on in runs.
        if (result.stoppedAt && "error" in result.stoppedAt) {
          if (!(await this.applyOneByOne(rest.slice(0, 1), payload, result.stoppedAt.error))) return this.abandon(rest.slice(1));
          rest = rest.slice(1);
        }
      } catch (error) {
        this.log.info(
          { topic: run[0]!.record.topic, partition: run[0]!.record.partition, records: run.length, code: errorCodeOf(error) },
          "run failed; retrying its records one by one",
        );
        // A run of one record was that record's attempt 1 (its prepare saw attempt 1): the retries go on from 2.
        // In a longer run the failure may be another record's: each record starts its own attempts.
        return this.applyOneByOne(run, payload, run.length === 1 ? error : undefined);
      }
    }
    return true;
  }

  /**
   * The careful path: each record in its own transaction with its own attempts. `firstFailure` (one record only)
   * is how its attempt 1 already failed. False when the batch must stop.
   */
  private async applyOneByOne(records: TracedRecord[], payload: EachBatchPayload, firstFailure?: unknown): Promise<boolean> {
    for (const [index, traced] of records.entries()) {
      if (!this.canContinue(payload)) return this.abandon(records.slice(index));
      const result = await this.handle(traced, payload.heartbeat, index === 0 ? firstFailure : undefined);
      if (result.kind === "abandon") return this.abandon(records.slice(index + 1));
      if (result.kind === "pause") {
        this.pausePartition(traced.record, payload.pause, result.reason);
        return this.abandon(records.slice(index + 1));
      }
      await this.settle(payload, [result.record]);
    }
    return true;
  }

  /** Spans of records left for a later fetch (stop, rebalance, pause): they are processed again then. */
  private abandon(records: readonly TracedRecord[]): false {
    for (const traced of records) endProcessSpan(traced.span, "abandoned");
    return false;
  }

  /** The commit step: offsets only after the transaction that holds their effects. */
  private async settle(payload: EachBatchPayload, outcomes: readonly OutcomeRecord[]): Promise<void> {
    const last = outcomes[outcomes.length - 1];
    if (last === undefined) return;
    this.pauseCounts.delete(partitionKey(last));
    // The effects are committed: say so before the offset commit, which a rebalance can interrupt.
    for (const outcome of outcomes) this.notify(outcome);
    payload.resolveOffset(last.offset);
    await this.committer.resolved(last.topic, last.partition, last.offset, outcomes.length, commitThrough(payload));
    try {
      await payload.heartbeat();
    } catch (error) {
      // A rebalance started: commit what is applied before kafkajs rejoins, so the next owner does not redo it.
      await this.committer.flush(commitThrough(payload));
      throw error;
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
    this.log.warn(
      {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        delayMs: delay,
        code: errorCodeOf(reason),
        reason: reason instanceof Error ? reason.message : String(reason),
      },
      "dependency unavailable: partition paused",
    );
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      if (!this.isStopping) resume();
    }, delay);
    this.resumeTimers.add(timer);
  }

  /**
   * One message through its attempts, under its process span (the retry policy): a failure that belongs to the
   * message is dead-lettered at once; a retryable one is retried with backoff, then dead-lettered; an outage is
   * retried the same way (a blip should not stall the partition) and then pauses it, never dead-lettering.
   */
  private async handle(traced: TracedRecord, heartbeat: () => Promise<void>, firstFailure?: unknown): Promise<HandleResult> {
    let failure: Failure | undefined;
    let attempt = 1;
    if (firstFailure !== undefined) {
      // The record's run (of this record alone) was its attempt 1: go on as if that attempt had been made here.
      const next = await this.afterFailure(traced, firstFailure, attempt, undefined, heartbeat);
      if ("kind" in next) return next;
      failure = next;
      attempt = 2;
    }
    for (; ; attempt += 1) {
      try {
        const done = await this.keepingHeartbeats(heartbeat, () => applyRecord(this.batchDeps, traced, attempt));
        endProcessSpan(traced.span, done.outcome);
        return { kind: "done", record: done };
      } catch (error) {
        const next = await this.afterFailure(traced, error, attempt, failure, heartbeat);
        if ("kind" in next) return next;
        failure = next;
      }
    }
  }

  /** The retry policy for one failed attempt: a final result, or the failure to retry after (backoff done). */
  private async afterFailure(
    traced: TracedRecord,
    error: unknown,
    attempt: number,
    earlier: Failure | undefined,
    heartbeat: () => Promise<void>,
  ): Promise<HandleResult | Failure> {
    const { record } = traced;
    const kind = classifyFailure(error);
    const lastAttempt = attempt >= this.options.maxAttempts;
    if (kind === "outage" && lastAttempt) {
      endProcessSpan(traced.span, "paused", error);
      return { kind: "pause", reason: error };
    }
    const failure = { error, attempts: attempt, firstFailureAt: earlier?.firstFailureAt ?? new Date() };
    if (kind === "message" || (kind === "retryable" && lastAttempt)) return this.deadLetter(traced, failure);
    this.log.warn(
      { topic: record.topic, partition: record.partition, offset: record.offset, attempt, code: errorCodeOf(error), err: error },
      kind === "outage" ? "dependency unavailable, retrying" : "transient failure, retrying",
    );
    await this.waitWithHeartbeats(backoffDelay(attempt, this.options.retryBackoff), heartbeat);
    if (this.isStopping) {
      endProcessSpan(traced.span, "abandoned", error);
      return { kind: "abandon" };
    }
    return failure;
  }

  /** Sends the original record with the error headers to dlq.<group>; a Kafka failure pauses the partition instead. */
  private async deadLetter(traced: TracedRecord, failure: Failure): Promise<HandleResult> {
    const { record, span } = traced;
    try {
      await this.deadLetters.send(this.dlqTopic, deadLetterMessage(record, this.definition.group, failure));
    } catch (error) {
      endProcessSpan(span, "paused", error);
      return { kind: "pause", reason: error };
    }
    this.log.error(
      {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        attempts: failure.attempts,
        code: errorCodeOf(failure.error),
        err: failure.error,
        dlq: this.dlqTopic,
      },
      "message dead-lettered",
    );
    endProcessSpan(span, "dead-lettered", failure.error);
    return {
      kind: "done",
      record: { topic: record.topic, partition: record.partition, offset: record.offset, attempts: failure.attempts, outcome: "dead-lettered" },
    };
  }

  /**
   * kafkajs heartbeats only when asked: a slow run (payment provider calls) must not get the member thrown out of
   * the group mid-run. A failed heartbeat here (e.g. a rebalance started) is ignored: the heartbeat after the run
   * reports it to kafkajs, which then rejoins.
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

function tracedRecord(record: RawRecord, group: string): TracedRecord {
  return { record, ...startProcessSpan(record, group) };
}

/**
 * Commits through the batch's payload: kafkajs' consumer.commitOffsets() does nothing once disconnect() began,
 * which is exactly when the batch in flight at a stop commits its last offsets.
 */
function commitThrough(payload: EachBatchPayload): CommitOffsets {
  return (offsets) => {
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const { topic, partition, offset } of offsets) byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset }]);
    return payload.commitOffsetsIfNecessary({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
  };
}

function partitionKey(record: Pick<RawRecord, "topic" | "partition">): string {
  return `${record.topic}:${record.partition}`;
}

function toRawRecord(topic: string, partition: number, message: KafkaMessage): RawRecord {
  return { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: headersAsText(message.headers) };
}
