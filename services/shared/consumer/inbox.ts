/**
 * The inbox: exactly-once effects under at-least-once delivery. A (consumer group, event id) row is written in
 * the same transaction as the event's effect; an event whose row exists already was applied and is skipped.
 * All inbox SQL of the runner lives here.
 */
import { sql, type SqlExecutor } from "../db/sql.ts";

/**
 * Inserts the inbox rows of `eventIds` (one statement for a whole batch) and returns the ids that were new: the
 * events to apply now. An id repeated within the batch is new at most once.
 */
export async function claimFirstDeliveries(db: SqlExecutor, group: string, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows = await db.rows<{ event_id: string }>(sql`
    INSERT INTO inbox (consumer_group, event_id)
    SELECT ${group}, id FROM unnest(${eventIds}::uuid[]) AS t(id)
    ON CONFLICT DO NOTHING
    RETURNING event_id::text`);
  return new Set(rows.map((row) => row.event_id));
}

/** The ids of `eventIds` the group has applied already (read outside a transaction, to skip outside calls). */
export async function alreadyDelivered(db: SqlExecutor, group: string, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows = await db.rows<{ event_id: string }>(sql`
    SELECT event_id::text FROM inbox WHERE consumer_group = ${group} AND event_id = ANY(${eventIds}::uuid[])`);
  return new Set(rows.map((row) => row.event_id));
}
