/**
 * "This order has ended, as far as this consumer group knows": the guarantee that no group applies a first effect
 * (reserving stock, authorizing money) to an order whose compensation it already ran, whatever the order of
 * arrival (a dead-lettered OrderPlaced replayed after OrderCancelled, a redelivery racing a cancel).
 *
 * Every compensation writes the tombstone (also when there was nothing to undo) and every first effect checks it,
 * both after lockOrder() in their transaction, so the two never interleave for one order. Group-scoped: the groups
 * run independently, so each keeps its own view (table order_tombstones).
 */
import { sql, type SqlExecutor } from "../db/sql.ts";

/**
 * Serialises this transaction's work on (group, order) with any other transaction's (released at commit). Its own
 * statement on purpose: under READ COMMITTED the next statement takes a fresh snapshot and so sees what the
 * transaction we waited for committed (a check in the same statement would use the snapshot from before the wait).
 */
export async function lockOrder(db: SqlExecutor, group: string, orderId: string): Promise<void> {
  await lockOrders(db, group, [orderId]);
}

/** lockOrder for several orders at once, taken in key order so two transactions locking overlapping sets never deadlock. */
export async function lockOrders(db: SqlExecutor, group: string, orderIds: readonly string[]): Promise<void> {
  await db.rows(sql`
    SELECT 1 AS locked
      FROM (SELECT DISTINCT hashtextextended(${group}::text || ':' || o::text, 0) AS k FROM unnest(${orderIds}::uuid[]) AS o ORDER BY 1) AS keys,
           LATERAL pg_advisory_xact_lock(keys.k)`);
}

export async function isTombstoned(db: SqlExecutor, group: string, orderId: string): Promise<boolean> {
  const rows = await db.rows<{ found: number }>(sql`SELECT 1 AS found FROM order_tombstones WHERE consumer_group = ${group} AND order_id = ${orderId}::uuid`);
  return rows.length > 0;
}

/** Marks the order ended for `group`; the first reason stays. */
export async function writeTombstone(db: SqlExecutor, group: string, orderId: string, reason: string): Promise<void> {
  await db.execute(sql`
    INSERT INTO order_tombstones (consumer_group, order_id, reason) VALUES (${group}, ${orderId}::uuid, ${reason})
    ON CONFLICT DO NOTHING`);
}
