// Test helpers for integration tests against the real stack: the test database (or a fresh migrated one of its
// own), a unique topic prefix, config, a pg pool, a Kafka client, a plain consumer that collects records, and a
// bounded wait. Used by the relay, consumer, inventory and order-state tests and the relay benchmark.
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { AppConfig } from "../../services/shared/config/config-schema.ts";
import { loadConfig } from "../../services/shared/config/load-config.ts";
import { createKafka, parseBrokers } from "../../services/shared/kafka/kafka-client.ts";
import type { Kafka } from "../../services/shared/kafka/kafka-types.ts";

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

export async function useIsolatedDatabase(name: string, base = BASE_DATABASE_URL): Promise<{ url: string; drop: () => Promise<void> }> {
  const database = `${new URL(base).pathname.slice(1)}_${name.replace(/[^a-z0-9]/g, "_")}_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: base, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(base, database);
  const { applyMigrations } = await import("../../scripts/db/migrate.ts");
  await applyMigrations(url, { log: () => undefined });
  TEST_DATABASE_URL = url;
  return {
    url,
    async drop() {
      const client = new pg.Client({ connectionString: base, connectionTimeoutMillis: 5_000 });
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
      for (const [name, value] of Object.entries(message.headers ?? {}))
        if (value !== undefined) headers[name] = String(Array.isArray(value) ? value[0] : value);
      records.push({
        topic,
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? "",
        value: message.value ?? Buffer.alloc(0),
        headers,
        eventId: headers["event-id"] ?? "",
      });
    },
  });
  return {
    records,
    crashes,
    async waitFor(predicate: (records: ConsumedRecord[]) => boolean, timeoutMs: number, what: string): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(records)) {
        if (Date.now() > deadline)
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} (have ${records.length} records; consumer crashes: ${crashes.join("; ") || "none"})`,
          );
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
    if (attempt >= attempts)
      throw new Error(`no consumer could read ${topics.join(", ")} after ${attempts} attempts: ${collector.crashes.join("; ") || "no records"}`);
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
