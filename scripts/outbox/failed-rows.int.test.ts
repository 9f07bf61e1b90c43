import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../services/shared/logging/create-logger.ts";
import { assembleRelay, type RelayAssembly } from "../../services/outbox-relay/relay-setup.ts";
import { insertOutbox, makeEvents, orderPlacedPayload } from "../../test/support/relay/relay-test-kit.ts";
import { testConfig, testPool, uniquePrefix, useIsolatedDatabase, waitUntil } from "../../test/support/stack-test-kit.ts";

const run = promisify(execFile);
const database = await useIsolatedDatabase("outbox_cmd");
const config = testConfig(uniquePrefix("outbox-cmd"));
const pool = testPool();
let assembly: RelayAssembly;

function outboxCommand(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run("npx", ["tsx", "scripts/outbox.ts", ...args], { env: { ...process.env, DATABASE_URL: database.url }, timeout: 60_000 });
}

async function rowsOf(key: string): Promise<Array<{ id: string; published: boolean; failed: boolean; attempts: number }>> {
  const { rows } = await pool.query<{ id: string; published: boolean; failed: boolean; attempts: number }>(
    "SELECT id::text, published_at IS NOT NULL AS published, failed_at IS NOT NULL AS failed, attempts FROM outbox WHERE key = $1 ORDER BY id",
    [key],
  );
  return rows;
}

beforeAll(async () => {
  assembly = await assembleRelay(config, createLogger({ service: "relay-test", level: "silent" }), { pollIntervalMs: 20, maxEncodeAttempts: 1 });
  await assembly.relay.start();
});

afterAll(async () => {
  await assembly?.relay.stop();
  await pool.end();
  await database.drop();
});

describe("npm run outbox", () => {
  it("lists failed rows with their error and held-back rows, and retry hands one back to the relay, which publishes its order in order", async () => {
    const key = randomUUID();
    const brokenId = randomUUID();
    const later = makeEvents(1, 2).map((event) => ({ ...event, key, payload: orderPlacedPayload(key, event.eventId) }));
    await insertOutbox(pool, [{ key, eventId: brokenId, payload: { order_id: key } }, ...later]);
    const healthy = makeEvents(3, 1);
    await insertOutbox(pool, healthy);
    await waitUntil(async () => (await rowsOf(key))[0]?.failed === true, 30_000, "the broken row to fail for good");
    await waitUntil(
      async () => (await Promise.all(healthy.map((e) => rowsOf(e.key)))).every((rows) => rows.every((r) => r.published)),
      30_000,
      "the other orders to flow",
    );
    const [broken] = await rowsOf(key);

    const listed = await outboxCommand("list");
    expect(listed.stdout).toContain("1 failed outbox row(s)");
    expect(listed.stdout).toContain(`#${broken!.id} OrderPlaced on orders, key ${key}`);
    expect(listed.stdout).toContain("after 1 attempt(s); 2 later row(s) of this key wait behind it");
    expect(listed.stdout).toMatch(/error: payload does not match .*OrderPlaced/);

    // Without a fix a retry only fails again; fix the payload first, as an operator would after reading the error.
    await pool.query("UPDATE outbox SET payload = $2::jsonb WHERE id = $1::bigint", [broken!.id, JSON.stringify(orderPlacedPayload(key, brokenId))]);
    const retried = await outboxCommand("retry", "--id", broken!.id);
    expect(retried.stdout).toContain("1 failed outbox row(s) handed back to the relay");
    await waitUntil(async () => (await rowsOf(key)).every((r) => r.published), 30_000, "the order's three rows to publish");
    const { rows } = await pool.query<{ id: string }>("SELECT id::text FROM outbox WHERE key = $1 ORDER BY published_at, id", [key]);
    expect(rows.map((r) => r.id)).toEqual((await rowsOf(key)).map((r) => r.id));

    expect((await outboxCommand("list")).stdout).toContain("0 failed outbox row(s)");
    expect((await outboxCommand("retry", "--all")).stdout).toContain("0 failed outbox row(s) handed back");
  });

  it("refuses a row that is not failed and bad input, with exit code 2 and the reason", async () => {
    await expect(outboxCommand("retry", "--id", "999999999")).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("outbox row 999999999 is not a failed row"),
    });
    await expect(outboxCommand("retry", "--id", "abc")).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--id must be an outbox row id") });
    await expect(outboxCommand("retry")).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("usage: npm run outbox") });
  });
});
