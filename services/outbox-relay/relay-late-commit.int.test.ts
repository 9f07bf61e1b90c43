import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../shared/logging/create-logger.ts";
import { assembleRelay, type RelayAssembly } from "./relay-setup.ts";
import { startCollector, testConfig, testKafka, testPool, uniquePrefix, useIsolatedDatabase, waitUntil } from "../../test/support/stack-test-kit.ts";
import { insertOutbox, makeEvents, orderViolations, unpublishedCount } from "../../test/support/relay/relay-test-kit.ts";

const database = await useIsolatedDatabase("late");
const prefix = uniquePrefix("relay-late");
const config = testConfig(prefix);
const pool = testPool();
let assembly: RelayAssembly;

beforeAll(async () => {
  assembly = await assembleRelay(config, createLogger({ service: "relay-test", level: "silent" }), { batchSize: 100, pollIntervalMs: 20 });
  await assembly.relay.start();
});

afterAll(async () => {
  await assembly?.relay.stop();
  await pool.end();
  await database.drop();
});

describe("a lower outbox id that commits after higher ids were published (a long-open transaction)", () => {
  it("is still published, and before the later rows of its own key", async () => {
    const [late, ...rest] = makeEvents(1, 3);
    const slow = new pg.Client({ connectionString: database.url });
    await slow.connect();
    const collector = await startCollector(testKafka(config), [`${prefix}orders`]);
    try {
      // The slow transaction takes its id first and stays open while many higher ids commit and get published.
      await slow.query("BEGIN");
      const outboxIds = new Map<string, bigint>();
      const { rows } = await slow.query<{ id: string }>(
        "INSERT INTO outbox (topic, key, event_type, event_id, payload) VALUES ('orders', $1, 'OrderPlaced', $2::uuid, $3::jsonb) RETURNING id::text",
        [late!.key, late!.eventId, JSON.stringify(late!.payload)],
      );
      outboxIds.set(late!.eventId, BigInt(rows[0]!.id));
      const others = makeEvents(500, 2);
      for (const [id, outboxId] of await insertOutbox(pool, others, { chunk: 250 })) outboxIds.set(id, outboxId);
      await waitUntil(
        async () =>
          (await unpublishedCount(
            pool,
            others.map((e) => e.eventId),
          )) === 0,
        60_000,
        "the higher ids to publish (several full batches past the open one)",
      );
      expect(BigInt(rows[0]!.id)).toBeLessThan([...outboxIds.values()].reduce((a, b) => (a > b ? a : b)));

      await slow.query("COMMIT");
      // Its order's later events arrive after the commit, as a consumer's reaction would.
      for (const [id, outboxId] of await insertOutbox(pool, rest)) outboxIds.set(id, outboxId);
      const mine = [late!, ...rest].map((e) => e.eventId);
      await waitUntil(async () => (await unpublishedCount(pool, mine)) === 0, 30_000, "the late row and its order's later rows to publish");

      const wanted = new Set([...outboxIds.keys()]);
      await collector.waitFor(
        (records) => new Set(records.filter((r) => wanted.has(r.eventId)).map((r) => r.eventId)).size === wanted.size,
        60_000,
        "every event on Kafka",
      );
      const records = collector.records.filter((r) => wanted.has(r.eventId));
      expect(orderViolations(records, outboxIds)).toEqual([]);
      expect(records.filter((r) => r.key === late!.key).map((r) => r.eventId)).toEqual(mine);
    } finally {
      await slow.end();
      await collector.stop();
    }
  });
});
