import type pg from "pg";
import type { Logger } from "../shared/logging/create-logger.ts";
import { backoffDelay, sleep, type BackoffPolicy, DEFAULT_BACKOFF } from "../shared/resilience/backoff.ts";
import { planBatch, type EncodeFailure, type OutboxRow } from "./batch-plan.ts";
import type { KafkaPublisher } from "./kafka-publisher.ts";
import type { RelayMetrics } from "./relay-metrics.ts";
import * as sql from "./relay-sql.ts";
import { fairShare, planOwnership } from "./shard-assignment.ts";
import { WakeSignal } from "./wake-signal.ts";

export interface RelayOptions {
  shardCount: number;
  batchSize: number;
  /** Idle wait between polls when the last batch was not full. */
  pollIntervalMs: number;
  /** "notify": LISTEN for the insert trigger's NOTIFY and poll only as a fallback (see docs/outbox-relay.md). */
  wakeup: "poll" | "notify";
  maxEncodeAttempts: number;
  rebalanceIntervalMs: number;
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
  metricsIntervalMs: 5_000,
  retentionHours: 72,
  retentionIntervalMs: 60_000,
  retentionBatchSize: 1_000,
  backoff: DEFAULT_BACKOFF,
};

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

/**
 * One relay instance. It holds a session-level advisory lock per shard it owns (its fair share of the live relays),
 * publishes those shards' rows in id order, one batch at a time, and marks them published in the claim transaction
 * after Kafka acked. A lost session loses its locks, so every statement of the batch runs on that same session:
 * if it dies, the batch cannot be marked and is resent by the shard's next owner (duplicates, never reordering).
 */
export class OutboxRelay {
  private session: pg.Client | undefined;
  private pool: pg.Pool | undefined;
  private owned: number[] = [];
  private readonly stopController = new AbortController();
  private readonly wakeSignal = new WakeSignal();
  private readonly retryDueAt = new Map<string, number>();
  private loops: Promise<void>[] = [];
  private sessionBroken = false;
  private nextRebalanceAt = 0;
  private consecutiveFailures = 0;

  constructor(
    private readonly deps: RelayDependencies,
    private readonly options: RelayOptions = DEFAULT_RELAY_OPTIONS,
  ) {}

  get ownedShards(): readonly number[] {
    return this.owned;
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Connects and starts the publish, metrics and retention loops; returns at once. */
  async start(): Promise<void> {
    await this.openSession();
    this.pool = sql.createPool(this.deps.sqlOptions, 2, (error) => this.deps.logger.warn({ err: error }, "relay pool connection error"));
    this.loops = [this.publishLoop(), this.every(this.options.metricsIntervalMs, () => this.refreshBacklog()), this.every(this.options.retentionIntervalMs, async () => void (await this.runRetention()))];
  }

  /** Finishes the in-flight batch, releases the shard locks and disconnects. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopController.abort();
    this.wakeSignal.wake();
    await Promise.allSettled(this.loops);
    await this.releaseAll();
    await this.session?.end().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    await this.deps.publisher.close();
  }

  private async openSession(): Promise<void> {
    const session = await sql.connectSession(this.deps.sqlOptions, (error) => {
      this.sessionBroken = true;
      this.deps.logger.warn({ err: error }, "relay session lost: its shard locks are gone");
    });
    await sql.joinMembers(session);
    if (this.options.wakeup === "notify") {
      session.on("notification", () => this.wakeSignal.wake());
      await sql.listen(session);
    }
    this.session = session;
    this.sessionBroken = false;
    this.owned = [];
    this.nextRebalanceAt = 0;
  }

  private async ensureSession(): Promise<pg.Client> {
    if (this.session !== undefined && !this.sessionBroken) return this.session;
    await this.session?.end().catch(() => undefined);
    this.session = undefined;
    this.owned = [];
    this.deps.metrics.ownedShards = 0;
    await this.openSession();
    return this.session!;
  }

  private async rebalance(session: pg.Client): Promise<void> {
    const { members, rank } = await sql.readMembership(session);
    const plan = planOwnership(this.owned, this.options.shardCount, members, rank);
    for (const shard of plan.release) {
      await sql.unlockShard(session, shard);
      this.owned = this.owned.filter((owned) => owned !== shard);
    }
    const share = fairShare(this.options.shardCount, members);
    for (const shard of plan.candidates) {
      if (this.owned.length >= share) break;
      if (await sql.tryLockShard(session, shard)) this.owned.push(shard);
    }
    this.owned.sort((a, b) => a - b);
    this.deps.metrics.ownedShards = this.owned.length;
    this.nextRebalanceAt = Date.now() + this.options.rebalanceIntervalMs;
  }

  private async releaseAll(): Promise<void> {
    const session = this.session;
    if (session === undefined || this.sessionBroken) return;
    for (const shard of this.owned) await sql.unlockShard(session, shard).catch(() => undefined);
    this.owned = [];
  }

  private async publishLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        const session = await this.ensureSession();
        if (Date.now() >= this.nextRebalanceAt) await this.rebalance(session);
        const { claimed, sent } = this.owned.length === 0 ? { claimed: 0, sent: 0 } : await this.publishBatch(session);
        this.consecutiveFailures = 0;
        // A full batch means more is waiting: go again at once. A batch that sent nothing (all held back) waits too.
        if (claimed < this.options.batchSize || sent === 0) await this.wakeSignal.wait(this.options.pollIntervalMs);
      } catch (error) {
        this.consecutiveFailures += 1;
        const delayMs = backoffDelay(this.consecutiveFailures, this.options.backoff);
        this.deps.logger.warn({ err: error, attempt: this.consecutiveFailures, delay_ms: delayMs }, "relay batch failed; retrying the same rows after backoff");
        if (error instanceof sql.RelaySqlError) this.sessionBroken = true;
        await sleep(delayMs, this.stopController.signal);
      }
    }
  }

  /** One claim transaction: claim, encode, send, mark published, commit. On any error nothing is marked. */
  async publishBatch(session: pg.Client): Promise<{ claimed: number; sent: number }> {
    const rows = await sql.beginClaim(session, this.options.shardCount, this.owned, this.options.batchSize);
    try {
      const now = Date.now();
      const plan = await planBatch(rows, this.deps.encode, {
        maxAttempts: this.options.maxEncodeAttempts,
        isDue: (row) => (this.retryDueAt.get(row.id) ?? 0) <= now,
      });
      for (const failure of plan.failures) await this.recordFailure(session, failure);
      await this.deps.publisher.send(plan.send);
      await sql.markPublished(session, plan.send.map(({ row }) => row.id));
      await sql.commit(session);
      this.deps.metrics.recordAcked(plan.send.map(({ row }) => row.createdAt));
      for (const { row } of plan.send) this.retryDueAt.delete(row.id);
      return { claimed: rows.length, sent: plan.send.length };
    } catch (error) {
      await sql.rollback(session);
      throw error;
    }
  }

  private async recordFailure(session: pg.Client, failure: EncodeFailure): Promise<void> {
    await sql.recordEncodeFailure(session, failure.row.id, failure.error, failure.final);
    const attempt = failure.row.attempts + 1;
    const log = { outbox_id: failure.row.id, order_id: failure.row.key, event_type: failure.row.eventType, attempt, error: failure.error };
    if (failure.final) {
      this.retryDueAt.delete(failure.row.id);
      this.deps.logger.error(log, "outbox row failed for good: it holds back its order's later events until replayed");
    } else {
      this.retryDueAt.set(failure.row.id, Date.now() + backoffDelay(attempt, this.options.backoff));
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
