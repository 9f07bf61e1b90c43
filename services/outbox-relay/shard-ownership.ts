import type pg from "pg";
import type { Logger } from "../shared/logging/create-logger.ts";
import * as sql from "./relay-sql.ts";
import { fairShare, planOwnership } from "./shard-assignment.ts";

export interface OwnershipOptions {
  shardCount: number;
  rebalanceIntervalMs: number;
  /** After this much silence of a member's lock session the others disconnect it and take its shards. */
  memberLeaseMs: number;
  /** LISTEN for the outbox insert trigger on the lock session (RELAY_WAKEUP=notify). */
  listen: boolean;
}

/** How often the lock session beats: often enough that a live relay is never mistaken for a frozen one. */
export function heartbeatIntervalMs(memberLeaseMs: number): number {
  return Math.max(100, Math.min(1_000, Math.floor(memberLeaseMs / 5)));
}

/**
 * This instance's shards: one dedicated PostgreSQL session holds a session-level advisory lock per shard and a
 * membership lock, beats every second (its state_change is what the other relays read as its heartbeat), and moves
 * towards its fair share every rebalance interval, first disconnecting members that stayed silent past the lease (a
 * frozen or powered-off host keeps its socket, so the server alone would not free its locks for hours).
 *
 * The publisher asks two things before every send: `holdsLease()`, false once the session has been silent for half
 * the lease (so a relay resumed after a freeze stops before the others can have reaped it), and `epoch`, which
 * changes whenever a shard is released or lost, so a batch claimed for shards no longer owned is dropped unsent.
 */
export class ShardOwnership {
  private session: pg.Client | undefined;
  private broken = false;
  private owned: number[] = [];
  private currentEpoch = 0;
  private lastBeatAt = 0;
  private nextRebalanceAt = 0;

  constructor(
    private readonly sqlOptions: sql.RelaySqlOptions,
    private readonly options: OwnershipOptions,
    private readonly logger: Logger,
    private readonly onChange: (owned: number) => void,
    private readonly onNotify: () => void,
  ) {}

  get shards(): readonly number[] {
    return this.owned;
  }

  get epoch(): number {
    return this.currentEpoch;
  }

  holdsLease(now = Date.now()): boolean {
    return this.session !== undefined && !this.broken && this.owned.length > 0 && now - this.lastBeatAt < this.options.memberLeaseMs / 2;
  }

  /** One tick of the ownership loop: (re)connect, beat, and rebalance when due. Any error drops every shard. */
  async maintain(): Promise<void> {
    try {
      const session = await this.ensureSession();
      await sql.heartbeat(session);
      this.lastBeatAt = Date.now();
      if (Date.now() >= this.nextRebalanceAt) await this.rebalance(session);
    } catch (error) {
      this.lose("relay lock session failed: its shard locks are gone");
      throw error;
    }
  }

  /** Gives every shard back (clean stop) and closes the session. */
  async close(): Promise<void> {
    const session = this.session;
    if (session !== undefined && !this.broken) {
      for (const shard of this.owned) await sql.unlockShard(session, shard).catch(() => undefined);
    }
    this.drop();
    this.session = undefined;
    await session?.end().catch(() => undefined);
  }

  private async ensureSession(): Promise<pg.Client> {
    if (this.session !== undefined && !this.broken) return this.session;
    const stale = this.session;
    this.session = undefined;
    await stale?.end().catch(() => undefined);
    const session = await sql.connectSession(this.sqlOptions, (error) => {
      this.logger.warn({ err: error }, "relay session lost: its shard locks are gone");
      this.lose("relay session lost");
    });
    try {
      await sql.joinMembers(session);
      if (this.options.listen) {
        session.on("notification", () => this.onNotify());
        await sql.listen(session);
      }
    } catch (error) {
      await session.end().catch(() => undefined);
      throw error;
    }
    this.session = session;
    this.broken = false;
    this.nextRebalanceAt = 0;
    return session;
  }

  private async rebalance(session: pg.Client): Promise<void> {
    const reaped = await sql.reapStaleMembers(session, this.options.memberLeaseMs);
    if (reaped.length > 0)
      this.logger.warn({ pids: reaped, lease_ms: this.options.memberLeaseMs }, "disconnected relay members silent past their lease; taking over their shards");
    const { members, rank } = await sql.readMembership(session);
    const plan = planOwnership(this.owned, this.options.shardCount, members, rank);
    for (const shard of plan.release) {
      // The epoch moves before the unlock: from here on no batch claimed for this shard may be sent.
      this.currentEpoch += 1;
      this.owned = this.owned.filter((owned) => owned !== shard);
      await sql.unlockShard(session, shard);
    }
    const share = fairShare(this.options.shardCount, members);
    for (const shard of plan.candidates) {
      if (this.owned.length >= share) break;
      if (await sql.tryLockShard(session, shard)) this.owned = [...this.owned, shard].sort((a, b) => a - b);
    }
    this.onChange(this.owned.length);
    this.nextRebalanceAt = Date.now() + this.options.rebalanceIntervalMs;
  }

  private lose(reason: string): void {
    if (this.owned.length > 0) this.logger.warn({ shards: this.owned }, reason);
    this.broken = true;
    this.drop();
  }

  private drop(): void {
    if (this.owned.length > 0) this.currentEpoch += 1;
    this.owned = [];
    this.onChange(0);
  }
}
