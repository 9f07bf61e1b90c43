/**
 * The inbox: the first-delivery check and its retention. A consumer group processes an event only if this is the
 * first time its (group, event_id) enters the inbox, in the same transaction as the event's effect; a redelivery
 * (a crash before the offset commit, a rebalance, a replay) finds its row and is skipped.
 *
 * Rows are needed only as long as a redelivery can still come: INBOX_RETENTION_HOURS (default 7 days, far beyond
 * Kafka redeliveries; a DLQ replay of an event older than that would run again, and the handlers' own guards and
 * tombstones still hold). Each consumer service purges its own group's rows in small batches (inboxRetentionExtension).
 */
import { executorOf, sql, type SqlExecutor } from "../db/sql.ts";
import { periodicExtension } from "./periodic-extension.ts";
import type { ServiceExtension } from "./run-consumer-service.ts";

/**
 * Inserts the inbox rows of `eventIds` for `group` in one statement; returns the ids that were not there yet
 * (the ones to process). Call it inside the transaction that holds the events' effects.
 */
export async function recordFirstDeliveries(db: SqlExecutor, group: string, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows = await db.rows<{ event_id: string }>(sql`
    INSERT INTO inbox (consumer_group, event_id) SELECT ${group}, unnest(${[...eventIds]}::uuid[])
    ON CONFLICT DO NOTHING RETURNING event_id`);
  return new Set(rows.map((row) => row.event_id));
}

/** The ids of `eventIds` the group has applied already (read outside a transaction, to skip outside calls). */
export async function alreadyDelivered(db: SqlExecutor, group: string, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows = await db.rows<{ event_id: string }>(sql`
    SELECT event_id::text FROM inbox WHERE consumer_group = ${group} AND event_id = ANY(${[...eventIds]}::uuid[])`);
  return new Set(rows.map((row) => row.event_id));
}

export const INBOX_PURGE_BATCH = 1_000;
/** Bound per pass, so one pass never runs long; the next interval continues. */
const MAX_BATCHES_PER_PASS = 100;

/** Deletes up to `limit` of `group`'s inbox rows older than `retentionHours`; returns how many. */
export async function purgeInboxBatch(db: SqlExecutor, group: string, retentionHours: number, limit = INBOX_PURGE_BATCH): Promise<number> {
  const rows = await db.rows<{ deleted: string | bigint }>(sql`
    WITH expired AS (
      SELECT event_id FROM inbox
       WHERE consumer_group = ${group} AND processed_at < now() - make_interval(hours => ${retentionHours}::int)
       ORDER BY processed_at LIMIT ${limit}::int)
    , gone AS (DELETE FROM inbox i USING expired e WHERE i.consumer_group = ${group} AND i.event_id = e.event_id RETURNING 1)
    SELECT count(*) AS deleted FROM gone`);
  return Number(rows[0]?.deleted ?? 0);
}

/** Batches of purgeInboxBatch (each its own short statement: no long locks) until less than a batch is left. */
export async function purgeInbox(db: SqlExecutor, group: string, retentionHours: number, limit = INBOX_PURGE_BATCH): Promise<number> {
  let total = 0;
  for (let batch = 0; batch < MAX_BATCHES_PER_PASS; batch += 1) {
    const deleted = await purgeInboxBatch(db, group, retentionHours, limit);
    total += deleted;
    if (deleted < limit) break;
  }
  return total;
}

/** The inbox retention of `group` as an extension of its consumer service. */
export function inboxRetentionExtension(group: string): ServiceExtension {
  return periodicExtension("inbox-retention", (clients) => ({
    intervalMs: clients.config.CONSUMER_RETENTION_INTERVAL_MS,
    runOnce: () => purgeInbox(executorOf(clients.pool), group, clients.config.INBOX_RETENTION_HOURS),
    doneMessage: `inbox retention removed ${group}'s rows older than the retention`,
  }));
}
