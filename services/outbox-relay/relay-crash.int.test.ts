import { afterAll, describe, expect, it } from "vitest";
import { spawnRelay, type RelayProcess } from "../../test/support/relay/relay-process.ts";
import { startCollector, testConfig, testKafka, testPool, uniquePrefix, waitUntil, useIsolatedDatabase } from "../../test/support/stack-test-kit.ts";
import { deleteKeys, insertOutbox, makeEvents, orderViolations } from "../../test/support/relay/relay-test-kit.ts";

const database = await useIsolatedDatabase("crash");
const prefix = uniquePrefix("relay-crash");
const config = testConfig(prefix);
const pool = testPool();
const events = makeEvents(4_000, 5);
const keys = [...new Set(events.map((e) => e.key))];
const BATCH = 500;
const relays: RelayProcess[] = [];

async function publishedEventIds(): Promise<Set<string>> {
  const { rows } = await pool.query<{ event_id: string }>("SELECT event_id::text FROM outbox WHERE key = ANY($1::text[]) AND published_at IS NOT NULL", [keys]);
  return new Set(rows.map((r) => r.event_id));
}

afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.stop()));
  await deleteKeys(pool, keys);
  await pool.end();
  await database.drop();
});

describe("relay killed mid-batch", () => {
  it("loses nothing after SIGKILL and restart; duplicates are only the rows that were in flight", async () => {
    const outboxIds = await insertOutbox(pool, events);
    const env = { DATABASE_URL: database.url, TOPIC_PREFIX: prefix, RELAY_BATCH_SIZE: String(BATCH) };
    const first = spawnRelay(env);
    relays.push(first);
    await waitUntil(async () => (await publishedEventIds()).size >= 3_000, 60_000, "the first relay to publish a few batches", 20);
    await first.kill();
    // The killed session's transaction rolled back: what the database says is published is exactly what committed.
    const publishedAtKill = await publishedEventIds();
    expect(publishedAtKill.size).toBeLessThan(events.length);

    const second = spawnRelay(env);
    relays.push(second);
    await waitUntil(async () => (await publishedEventIds()).size === events.length, 90_000, "the restarted relay to drain the rest");

    const collector = await startCollector(testKafka(config), [`${prefix}orders`]);
    try {
      const wanted = new Set(events.map((e) => e.eventId));
      await collector.waitFor((records) => new Set(records.map((r) => r.eventId)).size >= wanted.size, 60_000, "every event on Kafka");
      const counts = new Map<string, number>();
      for (const record of collector.records) counts.set(record.eventId, (counts.get(record.eventId) ?? 0) + 1);
      expect([...wanted].filter((id) => !counts.has(id))).toEqual([]);
      const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
      // In flight = claimed by the killed relay but not committed: never published according to the database.
      expect(duplicated.filter((id) => publishedAtKill.has(id))).toEqual([]);
      // In flight at most two batches: the one being sent and the one sent before it, being marked meanwhile.
      expect(duplicated.length).toBeLessThanOrEqual(2 * BATCH);
      expect(orderViolations(collector.records, outboxIds)).toEqual([]);
      console.log(`published before the kill: ${publishedAtKill.size}; duplicates after restart: ${duplicated.length}`);
    } finally {
      await collector.stop();
    }
  });
});
