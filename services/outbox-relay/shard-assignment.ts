import { createHash } from "node:crypto";

/**
 * Shard of an outbox key: the first 4 bytes of md5(key) as an unsigned integer, modulo the shard count.
 * PostgreSQL computes the same value in the claim query (see SHARD_OF_KEY_SQL), so both sides always agree.
 */
export function shardOfKey(key: string, shardCount: number): number {
  return createHash("md5").update(key, "utf8").digest().readUInt32BE(0) % shardCount;
}

/** SQL twin of shardOfKey for a text column and a shard-count parameter. */
export function shardOfKeySql(column: string, shardCountParam: string): string {
  return `((('x' || left(md5(${column}), 8))::bit(32)::bigint) % ${shardCountParam})`;
}

/** How many shards each live relay should hold: every shard is covered even when the split is uneven. */
export function fairShare(shardCount: number, members: number): number {
  return Math.ceil(shardCount / Math.max(1, members));
}

export interface OwnershipPlan {
  /** Shards to give up (this instance holds more than its share). */
  release: number[];
  /** Shards to try to lock, best first (stop when the share is reached). */
  candidates: number[];
}

/**
 * Moves this instance toward its fair share. Candidates start with the shards "assigned" to this member's rank
 * (shard % members === rank) so concurrent instances mostly try different shards and settle quickly.
 */
export function planOwnership(owned: readonly number[], shardCount: number, members: number, rank: number): OwnershipPlan {
  const share = fairShare(shardCount, members);
  const sorted = [...owned].sort((a, b) => a - b);
  if (sorted.length > share) return { release: sorted.slice(share), candidates: [] };
  if (sorted.length === share) return { release: [], candidates: [] };
  const mine = new Set(sorted);
  const all = Array.from({ length: shardCount }, (_, shard) => shard).filter((shard) => !mine.has(shard));
  const preferred = all.filter((shard) => shard % Math.max(1, members) === rank % Math.max(1, members));
  const others = all.filter((shard) => shard % Math.max(1, members) !== rank % Math.max(1, members));
  return { release: [], candidates: [...preferred, ...others] };
}
