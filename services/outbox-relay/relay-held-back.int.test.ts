import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../shared/logging/create-logger.ts";
import { assembleRelay, type RelayAssembly } from "./relay-setup.ts";
import { testConfig, testPool, uniquePrefix, useIsolatedDatabase, waitUntil } from "../../test/support/stack-test-kit.ts";
import { insertOutbox, makeEvents, type TestEvent, unpublishedCount } from "../../test/support/relay/relay-test-kit.ts";

const database = await useIsolatedDatabase("held");
const prefix = uniquePrefix("relay-held");
const config = testConfig(prefix);
const pool = testPool();
const BATCH = 10;
let assembly: RelayAssembly;

/** A row whose payload does not fit OrderPlaced (encoding fails for good), then `behind` valid rows of its key. */
function brokenOrder(behind: number): TestEvent[] {
  const key = randomUUID();
  const broken = { key, eventId: randomUUID(), payload: { order_id: key } };
  const later = makeEvents(1, behind).map((event) => ({ ...event, key, payload: { ...event.payload, order_id: key } }));
  return [broken, ...later];
}

beforeAll(async () => {
  // A long retry backoff: the broken rows stay "not due" for the whole test, holding back their keys.
  assembly = await assembleRelay(config, createLogger({ service: "relay-test", level: "silent" }), {
    batchSize: BATCH,
    pollIntervalMs: 20,
    maxEncodeAttempts: 5,
    backoff: { initialMs: 60_000, maxMs: 60_000, factor: 1 },
  });
  await assembly.relay.start();
});

afterAll(async () => {
  await assembly?.relay.stop();
  await pool.end();
  await database.drop();
});

describe("rows held back behind a row that waits for its retry", () => {
  it("do not fill the batch: other orders keep flowing", async () => {
    // Three broken orders with more rows behind them than a batch holds, all older than the healthy orders.
    const held = [...brokenOrder(BATCH), ...brokenOrder(BATCH), ...brokenOrder(BATCH)];
    await insertOutbox(pool, held);
    const healthy = makeEvents(20, 2);
    await insertOutbox(pool, healthy);
    await waitUntil(
      async () =>
        (await unpublishedCount(
          pool,
          healthy.map((e) => e.eventId),
        )) === 0,
      10_000,
      "the healthy orders to publish while the broken ones wait",
    );
    // The broken orders' rows are still held, in order: nothing of theirs went out.
    expect(
      await unpublishedCount(
        pool,
        held.map((e) => e.eventId),
      ),
    ).toBe(held.length);
  });
});
