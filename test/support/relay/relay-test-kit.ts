// The relay's own test helpers (its tests and benchmark): outbox row factories, ordering checks, and Kafka's
// default partitioner recomputed independently. Generic stack helpers live in test/support/stack-test-kit.ts.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { ConsumedRecord } from "../stack-test-kit.ts";

export interface TestEvent {
  key: string;
  eventId: string;
  payload: Record<string, unknown>;
}

export function orderPlacedPayload(orderId: string, eventId: string, occurredAt = Date.now()): Record<string, unknown> {
  return {
    event_id: eventId,
    order_id: orderId,
    occurred_at: occurredAt,
    customer_id: "customer-1",
    currency: "EUR",
    total_minor: 4_200,
    items: [{ sku: "SKU-1", quantity: 2, unit_price_minor: 2_100 }],
    shipping_address: null,
  };
}

/** `orders` orders x `perOrder` OrderPlaced events, interleaved (event 0 of every order, then event 1, ...). */
export function makeEvents(orders: number, perOrder: number): TestEvent[] {
  const keys = Array.from({ length: orders }, () => randomUUID());
  const events: TestEvent[] = [];
  for (let seq = 0; seq < perOrder; seq += 1) {
    for (const key of keys) {
      const eventId = randomUUID();
      events.push({ key, eventId, payload: orderPlacedPayload(key, eventId) });
    }
  }
  return events;
}

/** Inserts outbox rows in the given order (ids ascend with it), in chunks; returns event id -> outbox id. */
export async function insertOutbox(
  pool: pg.Pool,
  events: readonly TestEvent[],
  options: { eventType?: string; topic?: string; headers?: Record<string, string>; chunk?: number } = {},
): Promise<Map<string, bigint>> {
  const ids = new Map<string, bigint>();
  const chunk = options.chunk ?? 2_000;
  for (let start = 0; start < events.length; start += chunk) {
    const slice = events.slice(start, start + chunk);
    const { rows } = await pool.query<{ id: string; event_id: string }>(
      `INSERT INTO outbox (topic, key, event_type, event_id, payload, headers)
       SELECT $1, k, $2, e::uuid, p, $3::jsonb
         FROM unnest($4::text[], $5::text[], $6::jsonb[]) WITH ORDINALITY AS t(k, e, p, n) ORDER BY n
       RETURNING id::text, event_id::text`,
      [
        options.topic ?? "orders",
        options.eventType ?? "OrderPlaced",
        JSON.stringify(options.headers ?? {}),
        slice.map((e) => e.key),
        slice.map((e) => e.eventId),
        slice.map((e) => JSON.stringify(e.payload)),
      ],
    );
    for (const row of rows) ids.set(row.event_id, BigInt(row.id));
  }
  return ids;
}

/** How many of the given events are still unpublished in the outbox. */
export async function unpublishedCount(pool: pg.Pool, eventIds: readonly string[]): Promise<number> {
  const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE event_id = ANY($1::uuid[]) AND published_at IS NULL", [eventIds]);
  return Number(rows[0]?.n ?? -1);
}

export async function deleteKeys(pool: pg.Pool, keys: Iterable<string>): Promise<void> {
  await pool.query("DELETE FROM outbox WHERE key = ANY($1::text[])", [[...new Set(keys)]]);
}

/** Kafka's murmur2 (Java client's Utils.murmur2), written here independently of any client library. */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const r = 24;
  let h = (0x9747b28c ^ data.length) | 0;
  const length4 = Math.floor(data.length / 4);
  for (let i = 0; i < length4; i += 1) {
    let k = data.readInt32LE(i * 4);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  // The tail bytes, as Java's switch with fall-through does (written without fall-through for the type checker).
  const tail = length4 * 4;
  const rest = data.length % 4;
  if (rest >= 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The default partitioner's choice for a keyed record: toPositive(murmur2(key)) % partitions. */
export function defaultPartition(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, "utf8")) & 0x7fffffff) % partitions;
}

/** Per key, whether the outbox ids of its records arrive strictly ascending once duplicates of earlier ones are skipped. */
export function orderViolations(records: readonly ConsumedRecord[], outboxIds: ReadonlyMap<string, bigint>): string[] {
  const lastByKey = new Map<string, bigint>();
  const violations: string[] = [];
  for (const record of records) {
    const id = outboxIds.get(record.eventId);
    if (id === undefined) continue;
    const last = lastByKey.get(record.key) ?? -1n;
    if (id > last) lastByKey.set(record.key, id);
    else if (id < last && !seenBefore(records, record)) violations.push(`${record.key}: outbox id ${id} after ${last}`);
  }
  return violations;
}

function seenBefore(records: readonly ConsumedRecord[], record: ConsumedRecord): boolean {
  // A redelivered duplicate (same event id seen earlier) is allowed; a first delivery out of order is not.
  for (const earlier of records) {
    if (earlier === record) return false;
    if (earlier.eventId === record.eventId) return true;
  }
  return false;
}
