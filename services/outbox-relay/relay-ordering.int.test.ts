import { afterAll, describe, expect, it } from "vitest";
import { SHARD_LOCK_NAMESPACE } from "./relay-sql.ts";
import { spawnRelay, type RelayProcess } from "../../test/support/relay/relay-process.ts";
import { startCollector, testConfig, testKafka, testPool, uniquePrefix, waitUntil, useIsolatedDatabase } from "../../test/support/stack-test-kit.ts";
import { deleteKeys, insertOutbox, makeEvents, orderViolations } from "../../test/support/relay/relay-test-kit.ts";

const database = await useIsolatedDatabase("order");
const prefix = uniquePrefix("relay-order");
const config = testConfig(prefix);
const pool = testPool();
const events = makeEvents(500, 5);
const relays: RelayProcess[] = [];

afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.stop()));
  await deleteKeys(
    pool,
    events.map((e) => e.key),
  );
  await pool.end();
  await database.drop();
});

describe("three relays at once", () => {
  it("publish 500 orders x 5 events with every order's events in outbox order", async () => {
    const env = { DATABASE_URL: database.url, TOPIC_PREFIX: prefix, RELAY_BATCH_SIZE: "50", RELAY_POLL_INTERVAL_MS: "20" };
    for (let i = 0; i < 3; i += 1) relays.push(spawnRelay(env));
    await Promise.all(relays.map((relay) => relay.waitForLog("outbox relay started", 60_000)));
    // "Every relay took part" needs the shards split first: rebalancing runs every 2 s, and under load the first
    // relay could otherwise drain the whole backlog before the others get their share.
    await waitUntil(
      async () => {
        const { rows } = await pool.query<{ owners: string }>(
          `SELECT count(DISTINCT l.pid) AS owners FROM pg_locks l JOIN pg_database d ON d.oid = l.database
          WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid AND l.objsubid = 2 AND d.datname = $2`,
          [SHARD_LOCK_NAMESPACE, new URL(database.url).pathname.slice(1)],
        );
        return rows[0]?.owners === "3";
      },
      30_000,
      "three relays each holding shards",
    );
    const collector = await startCollector(testKafka(config), [`${prefix}orders`]);
    try {
      // Inserted while the relays run, in chunks, so claims interleave with inserts and with shard rebalancing.
      const outboxIds = new Map<string, bigint>();
      for (let start = 0; start < events.length; start += 250) {
        for (const [eventId, id] of await insertOutbox(pool, events.slice(start, start + 250))) outboxIds.set(eventId, id);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const wanted = new Set(events.map((e) => e.eventId));
      await collector.waitFor(
        (records) => new Set(records.filter((r) => wanted.has(r.eventId)).map((r) => r.eventId)).size === wanted.size,
        90_000,
        "all 2500 events",
      );
      const mine = collector.records.filter((r) => wanted.has(r.eventId));
      expect(orderViolations(mine, outboxIds)).toEqual([]);

      await waitUntil(
        async () => {
          const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE key = ANY($1::text[]) AND published_at IS NULL", [
            [...new Set(events.map((e) => e.key))],
          ]);
          return rows[0]?.n === "0";
        },
        30_000,
        "every row marked published",
      );
    } finally {
      await collector.stop();
    }
    // Every relay took part, and each stops cleanly on SIGTERM.
    const codes = await Promise.all(relays.map((relay) => relay.stop()));
    expect(codes).toEqual([0, 0, 0]);
    const published = relays.map((relay) => Number(relay.logs.find((line) => line.msg === "outbox relay stopped")?.published_total ?? 0));
    expect(published.every((count) => count > 0)).toBe(true);
    console.log(`rows published per relay: ${published.join(", ")}`);
  });
});
