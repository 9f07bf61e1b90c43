// Shared by the relay's integration tests and benchmark: a test database pool, outbox row factories, a plain
// Kafka consumer that collects records, and Kafka's default partitioner recomputed independently.
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { AppConfig } from "../../shared/config/config-schema.ts";
import { loadConfig } from "../../shared/config/load-config.ts";
import { createKafka, parseBrokers } from "../../shared/kafka/kafka-client.ts";
import type { Kafka } from "../../shared/kafka/kafka-types.ts";

const BASE_DATABASE_URL = process.env.DATABASE_URL || "postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow_test";

/**
 * The database this test file works in. A relay publishes every row of its outbox table whatever TOPIC_PREFIX it
 * has, so a relay of another test (or another developer's e2e run) on the same database would publish this file's
 * rows to its own topics. Each relay test file therefore gets a fresh, migrated database of its own.
 */
export let TEST_DATABASE_URL = BASE_DATABASE_URL;

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function useIsolatedDatabase(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const database = `${new URL(BASE_DATABASE_URL).pathname.slice(1)}_${name.replace(/[^a-z0-9]/g, "_")}_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: BASE_DATABASE_URL, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(BASE_DATABASE_URL, database);
  const { applyMigrations } = await import("../../../scripts/db/migrate.ts");
  await applyMigrations(url, { log: () => undefined });
  TEST_DATABASE_URL = url;
  return {
    url,
    async drop() {
      const client = new pg.Client({ connectionString: BASE_DATABASE_URL, connectionTimeoutMillis: 5_000 });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export function uniquePrefix(name: string): string {
  return `test.${name}-${randomUUID().slice(0, 8)}.`;
}

export function testConfig(prefix: string, extra: Record<string, string> = {}): AppConfig {
  return loadConfig({ ...process.env, DATABASE_URL: TEST_DATABASE_URL, TOPIC_PREFIX: prefix, LOG_LEVEL: "warn", ...extra });
}

export function testPool(max = 4): pg.Pool {
  return new pg.Pool({ connectionString: TEST_DATABASE_URL, max, connectionTimeoutMillis: 5_000, statement_timeout: 60_000 });
}

export function testKafka(config: AppConfig): Kafka {
  return createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: "relay-test", logLevel: "nothing" });
}

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
      [options.topic ?? "orders", options.eventType ?? "OrderPlaced", JSON.stringify(options.headers ?? {}), slice.map((e) => e.key), slice.map((e) => e.eventId), slice.map((e) => JSON.stringify(e.payload))],
    );
    for (const row of rows) ids.set(row.event_id, BigInt(row.id));
  }
  return ids;
}

export async function deleteKeys(pool: pg.Pool, keys: Iterable<string>): Promise<void> {
  await pool.query("DELETE FROM outbox WHERE key = ANY($1::text[])", [[...new Set(keys)]]);
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  eventId: string;
}

/** A plain consumer (own group, from the beginning) that collects every record of the topics. */
export async function startCollector(kafka: Kafka, topics: string[]) {
  const records: ConsumedRecord[] = [];
  const consumer = kafka.consumer({ groupId: `relay-test-${randomUUID()}`, sessionTimeout: 10_000, heartbeatInterval: 1_000, retry: { retries: 20 } });
  const crashes: string[] = [];
  consumer.on(consumer.events.CRASH, (event) => crashes.push(`${String(event.payload.error)} (restart: ${String(event.payload.restart)})`));
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) if (value !== undefined) headers[name] = String(Array.isArray(value) ? value[0] : value);
      records.push({ topic, partition, offset: message.offset, key: message.key?.toString() ?? "", value: message.value ?? Buffer.alloc(0), headers, eventId: headers["event-id"] ?? "" });
    },
  });
  return {
    records,
    crashes,
    async waitFor(predicate: (records: ConsumedRecord[]) => boolean, timeoutMs: number, what: string): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(records)) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (have ${records.length} records; consumer crashes: ${crashes.join("; ") || "none"})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    stop: () => consumer.disconnect(),
  };
}

/**
 * A collector whose group join worked: right after a broker restart the group coordinator is still loading and a
 * fresh consumer can crash and stall, so retry (bounded) until one reads the topic's first records cleanly.
 */
export async function startCollectorWhenReady(kafka: Kafka, topics: string[], attempts = 6): Promise<Awaited<ReturnType<typeof startCollector>>> {
  for (let attempt = 1; ; attempt += 1) {
    const collector = await startCollector(kafka, topics);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && collector.records.length === 0 && collector.crashes.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    if (collector.records.length > 0 && collector.crashes.length === 0) return collector;
    await collector.stop();
    if (attempt >= attempts) throw new Error(`no consumer could read ${topics.join(", ")} after ${attempts} attempts: ${collector.crashes.join("; ") || "no records"}`);
  }
}

/** Polls until `check` is true or the bound passes. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
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
