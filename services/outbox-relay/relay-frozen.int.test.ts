import { afterAll, describe, expect, it } from "vitest";
import { SHARD_LOCK_NAMESPACE } from "./relay-sql.ts";
import { spawnRelay, type RelayProcess } from "../../test/support/relay/relay-process.ts";
import { startCollector, testConfig, testKafka, testPool, uniquePrefix, waitUntil, useIsolatedDatabase } from "../../test/support/stack-test-kit.ts";
import { deleteKeys, insertOutbox, makeEvents, orderViolations, unpublishedCount } from "../../test/support/relay/relay-test-kit.ts";

const database = await useIsolatedDatabase("frozen");
const databaseName = new URL(database.url).pathname.slice(1);
const prefix = uniquePrefix("relay-frozen");
const config = testConfig(prefix);
const pool = testPool();
const LEASE_MS = 3_000;
const SHARDS = 16;
const before = makeEvents(1_000, 3);
const whileFrozen = makeEvents(1_000, 3);
const afterResume = makeEvents(500, 3);
const all = [...before, ...whileFrozen, ...afterResume];
const relays: RelayProcess[] = [];

/** Shard locks per holding backend pid, in this test's database. */
async function shardOwners(): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number; shards: string }>(
    `SELECT l.pid, count(*) AS shards FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid AND l.objsubid = 2 AND d.datname = $2
      GROUP BY l.pid`,
    [SHARD_LOCK_NAMESPACE, databaseName],
  );
  return new Map(rows.map((row) => [row.pid, Number(row.shards)]));
}

afterAll(async () => {
  for (const relay of relays) relay.child.kill("SIGCONT");
  await Promise.all(relays.map((relay) => relay.stop()));
  await deleteKeys(
    pool,
    all.map((e) => e.key),
  );
  await pool.end();
  await database.drop();
});

describe("a relay frozen mid-stream (SIGSTOP: its socket stays open, as on a host that lost power)", () => {
  it("loses its shards to another relay within a bounded time, and per-key order holds after it resumes", async () => {
    const env = {
      DATABASE_URL: database.url,
      TOPIC_PREFIX: prefix,
      RELAY_BATCH_SIZE: "100",
      RELAY_POLL_INTERVAL_MS: "20",
      RELAY_MEMBER_LEASE_MS: String(LEASE_MS),
    };
    const frozen = spawnRelay(env);
    relays.push(frozen);
    await frozen.waitForLog("outbox relay started", 60_000);
    await waitUntil(async () => (await shardOwners()).size === 1, 30_000, "the first relay to hold every shard");
    const frozenPid = [...(await shardOwners()).keys()][0]!;
    const other = spawnRelay(env);
    relays.push(other);
    await other.waitForLog("outbox relay started", 60_000);
    await waitUntil(
      async () => (await shardOwners()).get(frozenPid) === SHARDS / 2 && (await shardOwners()).size === 2,
      30_000,
      "the shards split between both relays",
    );

    const collector = await startCollector(testKafka(config), [`${prefix}orders`]);
    try {
      const outboxIds = await insertOutbox(pool, before, { chunk: 500 });
      // Freeze it while it works through a backlog, so it stops with a batch claimed and not yet sent or marked.
      await waitUntil(
        async () =>
          (await unpublishedCount(
            pool,
            before.map((e) => e.eventId),
          )) <
          before.length * 0.8,
        30_000,
        "publishing to be under way",
        10,
      );
      frozen.child.kill("SIGSTOP");
      const frozenAt = Date.now();
      for (const [id, outboxId] of await insertOutbox(pool, whileFrozen, { chunk: 500 })) outboxIds.set(id, outboxId);

      await waitUntil(
        async () => {
          const owners = await shardOwners();
          return owners.size === 1 && !owners.has(frozenPid) && [...owners.values()][0] === SHARDS;
        },
        20_000,
        "the other relay to take over every shard of the frozen one",
        100,
      );
      const takeoverMs = Date.now() - frozenAt;
      // Bound: the lease, one rebalance interval (2 s) and a heartbeat, with room for a loaded machine.
      expect(takeoverMs).toBeLessThan(LEASE_MS + 2_000 + 5_000);
      await waitUntil(
        async () =>
          (await unpublishedCount(
            pool,
            [...before, ...whileFrozen].map((e) => e.eventId),
          )) === 0,
        60_000,
        "the other relay to drain everything",
      );

      frozen.child.kill("SIGCONT");
      // Resumed, it finds its session gone, reconnects and gets its share again.
      await waitUntil(async () => (await shardOwners()).size === 2, 30_000, "the resumed relay to rejoin with a share of the shards");
      for (const [id, outboxId] of await insertOutbox(pool, afterResume, { chunk: 500 })) outboxIds.set(id, outboxId);
      await waitUntil(
        async () =>
          (await unpublishedCount(
            pool,
            afterResume.map((e) => e.eventId),
          )) === 0,
        60_000,
        "both relays to publish the rows inserted after the resume",
      );

      const wanted = new Set(all.map((e) => e.eventId));
      await collector.waitFor(
        (records) => new Set(records.filter((r) => wanted.has(r.eventId)).map((r) => r.eventId)).size === wanted.size,
        60_000,
        "every event on Kafka",
      );
      expect(
        orderViolations(
          collector.records.filter((r) => wanted.has(r.eventId)),
          outboxIds,
        ),
      ).toEqual([]);
      console.log(`takeover of the frozen relay's shards after ${takeoverMs} ms (lease ${LEASE_MS} ms)`);
    } finally {
      await collector.stop();
    }
    expect(await Promise.all(relays.map((relay) => relay.stop()))).toEqual([0, 0]);
  });
});
