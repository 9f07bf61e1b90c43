import { randomBytes } from "node:crypto";
import type pg from "pg";
import type { RecordPlacement } from "../shared/kafka/record-placement.ts";
import type { Logger } from "../shared/logging/create-logger.ts";
import { backoffDelay, sleep, type BackoffPolicy, DEFAULT_BACKOFF } from "../shared/resilience/backoff.ts";
import { AdaptivePoll } from "./adaptive-poll.ts";
import { planBatch, type BatchPlan, type EncodeFailure, type OutboxRow } from "./batch-plan.ts";
import type { KafkaPublisher } from "./kafka-publisher.ts";
import type { RelayMetrics } from "./relay-metrics.ts";
import * as sql from "./relay-sql.ts";
import { heartbeatIntervalMs, ShardOwnership } from "./shard-ownership.ts";
import { WakeSignal } from "./wake-signal.ts";

export interface RelayOptions {
  shardCount: number;
  batchSize: number;
  /** Longest idle wait between claims; while rows flow the relay claims at once or after POLL_MIN_MS. */
  pollIntervalMs: number;
  /** "notify": LISTEN for the insert trigger's NOTIFY and poll only as a fallback (see docs/outbox-relay.md). */
  wakeup: "poll" | "notify";
  maxEncodeAttempts: number;
  rebalanceIntervalMs: number;
  /** A member silent this long is disconnected by the others (frozen host); see ShardOwnership. */
  memberLeaseMs: number;
  metricsIntervalMs: number;
  retentionHours: number;
  retentionIntervalMs: number;
  retentionBatchSize: number;
  backoff: BackoffPolicy;
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = {
  shardCount: 16,
  batchSize: 500,
  pollIntervalMs: 50,
  wakeup: "poll",
  maxEncodeAttempts: 5,
  rebalanceIntervalMs: 2_000,
  memberLeaseMs: 15_000,
  metricsIntervalMs: 5_000,
  retentionHours: 72,
  retentionIntervalMs: 60_000,
  retentionBatchSize: 1_000,
  backoff: DEFAULT_BACKOFF,
};

/** Shortest wait between claims while rows trickle in. */
const POLL_MIN_MS = 5;
/** A retry that fell due this long ago without the row coming back was claimed elsewhere: stop tracking its key. */
const FORGET_DUE_KEYS_AFTER_MS = 60_000;

/** The pieces a relay instance uses; main.ts builds the real ones, tests may pass their own. */
export interface RelayDependencies {
  sqlOptions: sql.RelaySqlOptions;
  publisher: KafkaPublisher;
  encode: (row: OutboxRow) => Promise<Buffer>;
  metrics: RelayMetrics;
  logger: Logger;
}

/** Cap on retention batches per run, so one run never holds the relay's pool for long. */
const MAX_RETENTION_BATCHES_PER_RUN = 100;

/** A claimed and encoded batch, waiting for its send. */
interface PreparedBatch {
  /** Ownership epoch at claim time: the batch may be sent only while it is unchanged. */
  epoch: number;
  rows: OutboxRow[];
  plan: BatchPlan;
}

/**
 * One relay instance. ShardOwnership holds its shards (advisory locks on a dedicated session); the publish loop
 * claims those shards' oldest rows in id order (a plain SELECT: no row lock is held across a send), encodes them,
 * sends them (acks = -1) and marks them published. While a batch is on its way to Kafka the next one is already
 * claimed (excluding the rows in flight) and encoded, and the previous one is being marked, so the send path is
 * never idle waiting for the database. Order holds because batches are sent one after another and any failure
 * drops everything claimed but not sent: the next claim starts again from the oldest unpublished row. A row can
 * only be sent again (a duplicate, consumers dedupe), never sent before an earlier row of its key.
 */
export class OutboxRelay {
  private pool: pg.Pool | undefined;
  private readonly ownership: ShardOwnership;
  private readonly stopController = new AbortController();
  private readonly wakeSignal = new WakeSignal();
  /** Keys whose oldest row waits for its next encode attempt, with the time it is due. */
  private readonly heldKeys = new Map<string, number>();
  private readonly poll: AdaptivePoll;
  private readonly sqlOptions: sql.RelaySqlOptions;
  private loops: Promise<void>[] = [];
  private consecutiveFailures = 0;

  constructor(
    private readonly deps: RelayDependencies,
    private readonly options: RelayOptions = DEFAULT_RELAY_OPTIONS,
  ) {
    this.sqlOptions = {
      ...deps.sqlOptions,
      applicationName: `${sql.RELAY_APPLICATION_PREFIX}${randomBytes(4).toString("hex")}`,
      memberLeaseMs: options.memberLeaseMs,
    };
    this.ownership = new ShardOwnership(
      this.sqlOptions,
      {
        shardCount: options.shardCount,
        rebalanceIntervalMs: options.rebalanceIntervalMs,
        memberLeaseMs: options.memberLeaseMs,
        listen: options.wakeup === "notify",
      },
      deps.logger,
      (owned) => (deps.metrics.ownedShards = owned),
      () => this.wakeSignal.wake(),
    );
    this.poll = new AdaptivePoll(Math.min(POLL_MIN_MS, options.pollIntervalMs), options.pollIntervalMs);
  }

  get ownedShards(): readonly number[] {
    return this.ownership.shards;
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Connects, takes its first shards and starts the ownership, publish, metrics and retention loops. */
  async start(): Promise<void> {
    this.pool = sql.createPool(this.sqlOptions, 3, (error) => this.deps.logger.warn({ err: error }, "relay pool connection error"));
    await this.ownership.maintain();
    this.loops = [
      this.every(heartbeatIntervalMs(this.options.memberLeaseMs), () => this.ownership.maintain()),
      this.publishLoop(),
      this.every(this.options.metricsIntervalMs, () => this.refreshBacklog()),
      this.every(this.options.retentionIntervalMs, async () => void (await this.runRetention())),
    ];
  }

  /** Finishes the batches in flight, releases the shard locks and disconnects. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopController.abort();
    this.wakeSignal.wake();
    await Promise.allSettled(this.loops);
    await this.ownership.close();
    await this.pool?.end().catch(() => undefined);
    await this.deps.publisher.close();
  }

  private async publishLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        const { claimed, sent } = await this.pump();
        this.consecutiveFailures = 0;
        const waitMs = this.poll.next(claimed, sent, this.options.batchSize);
        if (waitMs > 0) await this.wakeSignal.wait(waitMs);
      } catch (error) {
        this.consecutiveFailures += 1;
        const delayMs = backoffDelay(this.consecutiveFailures, this.options.backoff);
        this.deps.logger.warn({ err: error, attempt: this.consecutiveFailures, delay_ms: delayMs }, "relay batch failed; retrying the same rows after backoff");
        await sleep(delayMs, this.stopController.signal);
      }
    }
  }

  /**
   * Sends batches back to back while they come full, claiming and encoding the next one during each send and
   * marking each one during the next send. Returns what the last claim found. Throws after the first failure, once
   * nothing of its own is still running: the rows claimed but not sent stay unpublished and are claimed again.
   */
  private async pump(): Promise<{ claimed: number; sent: number }> {
    let current = await this.prepare([], []);
    let marking: { ids: string[]; done: Promise<void> } | undefined;
    try {
      for (;;) {
        if (current.plan.send.length > 0 && !this.maySend(current)) {
          this.deps.logger.warn({ rows: current.rows.length }, "relay lease or shard lost since the claim: the batch is dropped unsent");
          return { claimed: 0, sent: 0 };
        }
        const full = current.rows.length >= this.options.batchSize && !this.stopping;
        const inFlight = [...current.rows.map((row) => row.id), ...(marking?.ids ?? [])];
        // A key held back in this batch stays out of the next one too, even if its retry falls due meanwhile: its
        // held rows are excluded as in flight, so a later row of it must not go first.
        const blocked = [...current.plan.failures.map(({ row }) => row.key), ...current.plan.heldBack.map((row) => row.key)];
        const next = full ? this.prepare(inFlight, blocked) : undefined;
        next?.catch(() => undefined); // awaited below; only keeps a failure from counting as unhandled meanwhile
        let placements: Array<RecordPlacement | undefined>;
        try {
          placements = await this.send(current);
          await marking?.done;
        } catch (error) {
          await next?.catch(() => undefined);
          throw error;
        }
        const ids = current.plan.send.map(({ row }) => row.id);
        marking = { ids, done: sql.markPublished(this.db(), ids, placements) };
        marking.done.catch(() => undefined);
        if (next === undefined) return { claimed: current.rows.length, sent: current.plan.send.length };
        current = await next;
      }
    } finally {
      await marking?.done;
    }
  }

  private maySend(batch: PreparedBatch): boolean {
    return batch.epoch === this.ownership.epoch && this.ownership.holdsLease();
  }

  /** Claims the oldest sendable rows of the owned shards (not those in flight) and encodes them. */
  private async prepare(excludeIds: string[], blockedKeys: string[]): Promise<PreparedBatch> {
    const epoch = this.ownership.epoch;
    const shards = this.ownership.shards;
    if (shards.length === 0 || this.stopping) return { epoch, rows: [], plan: { send: [], failures: [], heldBack: [] } };
    const now = Date.now();
    const excludeKeys = [...blockedKeys, ...this.keysNotDue(now)];
    const rows = await sql.claimBatch(this.db(), this.options.shardCount, shards, this.options.batchSize, { excludeIds, excludeKeys });
    const plan = await planBatch(rows, this.deps.encode, {
      maxAttempts: this.options.maxEncodeAttempts,
      isDue: (row) => (this.heldKeys.get(row.key) ?? 0) <= now,
    });
    for (const failure of plan.failures) await this.recordFailure(failure);
    return { epoch, rows, plan };
  }

  /** Keys waiting for a retry; forgets those due long ago (their shard may have moved to another relay). */
  private keysNotDue(now: number): string[] {
    const keys: string[] = [];
    for (const [key, dueAt] of this.heldKeys) {
      if (dueAt > now) keys.push(key);
      else if (dueAt < now - FORGET_DUE_KEYS_AFTER_MS) this.heldKeys.delete(key);
    }
    return keys;
  }

  private async send(batch: PreparedBatch): Promise<Array<RecordPlacement | undefined>> {
    const placements = await this.deps.publisher.send(batch.plan.send);
    this.deps.metrics.recordAcked(batch.plan.send.map(({ row }) => row.createdAt));
    for (const { row } of batch.plan.send) this.heldKeys.delete(row.key);
    return placements;
  }

  private db(): pg.Pool {
    if (this.pool === undefined) throw new sql.RelaySqlError("pool", new Error("the relay is not started"));
    return this.pool;
  }

  private async recordFailure(failure: EncodeFailure): Promise<void> {
    await sql.recordEncodeFailure(this.db(), failure.row.id, failure.error, failure.final);
    const attempt = failure.row.attempts + 1;
    const log = { outbox_id: failure.row.id, order_id: failure.row.key, event_type: failure.row.eventType, attempt, error: failure.error };
    if (failure.final) {
      this.heldKeys.delete(failure.row.key);
      this.deps.logger.error(log, "outbox row failed for good: it holds back its order's later events until retried (npm run outbox -- retry)");
    } else {
      this.heldKeys.set(failure.row.key, Date.now() + backoffDelay(attempt, this.options.backoff));
      this.deps.logger.warn(log, "outbox row could not be encoded; will retry");
    }
  }

  private async every(intervalMs: number, work: () => Promise<void>): Promise<void> {
    while (!this.stopping) {
      try {
        await work();
      } catch (error) {
        this.deps.logger.warn({ err: error }, "relay background job failed; next run as scheduled");
      }
      await sleep(intervalMs, this.stopController.signal);
    }
  }

  async refreshBacklog(): Promise<void> {
    if (this.pool === undefined) return;
    const stats = await sql.readBacklog(this.pool);
    this.deps.metrics.setBacklog(stats.backlog, stats.failed, stats.oldestUnpublishedAt);
  }

  /** Deletes expired published rows in small batches (short transactions, no long locks). */
  async runRetention(): Promise<number> {
    if (this.pool === undefined) return 0;
    let total = 0;
    for (let batch = 0; batch < MAX_RETENTION_BATCHES_PER_RUN && !this.stopping; batch += 1) {
      const deleted = await sql.deleteExpired(this.pool, this.options.retentionHours, this.options.retentionBatchSize);
      total += deleted;
      if (deleted < this.options.retentionBatchSize) break;
    }
    if (total > 0) this.deps.logger.info({ deleted: total, retention_hours: this.options.retentionHours }, "outbox retention removed published rows");
    return total;
  }
}
