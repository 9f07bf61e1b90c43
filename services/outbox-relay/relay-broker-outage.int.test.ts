import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../shared/logging/create-logger.ts";
import { assembleRelay, type RelayAssembly } from "./relay-setup.ts";
import { startDedicatedStack } from "../../test/support/dedicated-stack.ts";
import { startCollectorWhenReady, testConfig, testKafka, testPool, uniquePrefix, waitUntil, useIsolatedDatabase } from "../../test/support/stack-test-kit.ts";
import { deleteKeys, insertOutbox, makeEvents, orderViolations, unpublishedCount } from "../../test/support/relay/relay-test-kit.ts";

const database = await useIsolatedDatabase("outage");
const prefix = uniquePrefix("relay-outage");
// A broker of this test's own: stopping the shared one would break `npm start` and the other test files.
const broker = await startDedicatedStack(prefix.replace(/\W+$/, ""));
const config = testConfig(prefix, { KAFKA_BROKERS: broker.brokers.join(",") });
const pool = testPool();
const before = makeEvents(100, 5);
const during = makeEvents(200, 5);
const keys = [...new Set([...before, ...during].map((e) => e.key))];
let assembly: RelayAssembly;

beforeAll(async () => {
  assembly = await assembleRelay(config, createLogger({ service: "relay-test", level: "silent" }), {
    pollIntervalMs: 20,
    backoff: { initialMs: 100, maxMs: 1_000, factor: 2 },
  });
  await assembly.relay.start();
});

afterAll(async () => {
  await assembly?.relay.stop();
  await broker.close();
  await deleteKeys(pool, keys);
  await pool.end();
  await database.drop();
});

describe("Kafka outage", () => {
  it("keeps the backlog while the broker is down and drains it in order when it is back", async () => {
    const ids = new Map<string, bigint>();
    for (const [id, outboxId] of await insertOutbox(pool, before)) ids.set(id, outboxId);
    await waitUntil(
      async () =>
        (await unpublishedCount(
          pool,
          before.map((e) => e.eventId),
        )) === 0,
      30_000,
      "the first rows to publish",
    );

    await broker.stop();
    for (const [id, outboxId] of await insertOutbox(pool, during)) ids.set(id, outboxId);
    const duringIds = during.map((e) => e.eventId);
    // Bounded observation window: nothing can be published while the broker is down.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await unpublishedCount(pool, duringIds)).toBe(during.length);
    await assembly.relay.refreshBacklog();
    expect(assembly.metrics.backlog).toBeGreaterThanOrEqual(during.length);

    const startedAt = Date.now();
    await broker.start();
    await waitUntil(async () => (await unpublishedCount(pool, duringIds)) === 0, 120_000, "the backlog to drain after the broker came back", 200);
    console.log(`backlog of ${during.length} drained ${((Date.now() - startedAt) / 1000).toFixed(1)} s after the broker start began`);

    const collector = await startCollectorWhenReady(testKafka(config), [`${prefix}orders`]);
    try {
      const wanted = new Set([...before, ...during].map((e) => e.eventId));
      await collector.waitFor((records) => new Set(records.map((r) => r.eventId).filter((id) => wanted.has(id))).size === wanted.size, 60_000, "every event");
      expect(orderViolations(collector.records, ids)).toEqual([]);
    } finally {
      await collector.stop();
    }
  });
});
