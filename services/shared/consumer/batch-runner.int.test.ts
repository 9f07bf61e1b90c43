// The batch path of the runner: a fetched run of one partition applied in one transaction, and what happens when
// something inside a run fails (a poison record, a database error, a dependency outage, a rebalance).
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../../../test/support/stack-test-kit.ts";
import { sql } from "../db/sql.ts";
import { DependencyUnavailableError } from "../errors/dependency-errors.ts";
import type { OrderPlacedPayload } from "../events/event-payloads.ts";
import { PermanentError, preparedHandler, type ConsumerDefinition, type EventEnvelope, type HandlerContext } from "./consumer-handler.ts";
import { ConsumerTestBench, waitUntil } from "../../../test/support/consumer/consumer-test-kit.ts";
import { orderPlaced } from "../../../test/support/consumer/event-factory.ts";

let bench: ConsumerTestBench;
let pool: pg.Pool;
const orderIds = new Set<string>();

/** Every applied event leaves an OrderConfirmed outbox row whose payload names the transaction that applied it. */
async function recordEffect(event: EventEnvelope<OrderPlacedPayload>, ctx: HandlerContext, group: string): Promise<void> {
  const [tx] = await ctx.db.rows<{ id: string }>(sql`SELECT txid_current()::text AS id`);
  await ctx.emit("OrderConfirmed", event.orderId, { customer_id: `${group}:${tx!.id}:${event.eventId}`, total_minor: 1, currency: "EUR" });
}

function group(): string {
  return `batch-test-${randomUUID().slice(0, 8)}`;
}

interface Effect {
  eventId: string;
  txid: string;
  outboxId: number;
}

async function effectsOf(groupName: string): Promise<Effect[]> {
  const { rows } = await pool.query<{ id: string; customer: string }>(
    "SELECT id, payload->>'customer_id' AS customer FROM outbox WHERE event_type = 'OrderConfirmed' AND payload->>'customer_id' LIKE $1 ORDER BY id",
    [`${groupName}:%`],
  );
  return rows.map((row) => {
    const [, txid, eventId] = row.customer.split(":");
    return { eventId: eventId!, txid: txid!, outboxId: Number(row.id) };
  });
}

/**
 * A group whose handler records every effect, except that `poison` can never be applied (dead-lettered) and
 * `failOnce` hits a database error on its first try; `failures()` counts those tries.
 */
function failingGroup(name: string, { poison, failOnce }: { poison?: string; failOnce?: string }): { definition: ConsumerDefinition; failures: () => number } {
  let failed = 0;
  const definition: ConsumerDefinition = {
    group: name,
    topics: ["orders"],
    handlers: {
      OrderPlaced: async (event, ctx) => {
        if (event.eventId === poison) throw new PermanentError("this one can never work", { code: "TEST_POISON" });
        await recordEffect(event, ctx, name);
        if (event.eventId === failOnce && failed++ === 0) await ctx.db.execute(sql`SELECT 1 / 0`); // SQLSTATE 22012
      },
    },
  };
  return { definition, failures: () => failed };
}

/** `count` OrderPlaced events of ONE order (one key, so one partition, in this order). */
function oneKey(count: number): OrderPlacedPayload[] {
  const orderId = randomUUID();
  orderIds.add(orderId);
  return Array.from({ length: count }, () => orderPlaced(undefined, orderId));
}

beforeAll(() => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
});

beforeEach(async () => {
  bench = await ConsumerTestBench.create("batch");
});

afterEach(async () => {
  await bench?.close();
});

afterAll(async () => {
  await pool?.query("DELETE FROM outbox WHERE key = ANY($1::text[])", [[...orderIds]]);
  await pool?.end();
});

describe("consumer runner, batch path", () => {
  it("applies a fetched run in few transactions, each event once, in offset order", async () => {
    const name = group();
    const events = oneKey(60);
    await bench.publishMany("OrderPlaced", events);
    const runner = await bench.startRunner({ group: name, topics: ["orders"], handlers: { OrderPlaced: (e, ctx) => recordEffect(e, ctx, name) } });
    await runner.waitForOutcomes(60, 30_000);
    const effects = await effectsOf(name);
    expect(effects.map((e) => e.eventId)).toEqual(events.map((e) => e.event_id));
    // One transaction per message would give 60 transaction ids.
    expect(new Set(effects.map((e) => e.txid)).size).toBeLessThan(10);
  });

  it("one poison record in a run: it is dead-lettered, every other record is applied once and in order", async () => {
    const name = group();
    const events = oneKey(40);
    const poison = events[17]!.event_id;
    const { definition } = failingGroup(name, { poison });
    const dlq = await bench.dlqCollector(name);
    await bench.publishMany("OrderPlaced", events);
    const runner = await bench.startRunner(definition);
    await runner.waitForOutcomes(40, 30_000);
    await dlq.waitFor((records) => records.length >= 1, 10_000, "the poison record's dead letter");
    const effects = await effectsOf(name);
    expect(effects.map((e) => e.eventId)).toEqual(events.filter((e) => e.event_id !== poison).map((e) => e.event_id));
    expect(runner.outcomes.filter((o) => o.outcome === "dead-lettered").map((o) => o.eventId ?? poison)).toHaveLength(1);
    expect(dlq.records).toHaveLength(1);
    await dlq.stop();
  });

  it("a database error mid-run rolls the whole run back; the retry applies every record exactly once", async () => {
    const name = group();
    const events = oneKey(30);
    const { definition, failures } = failingGroup(name, { failOnce: events[12]!.event_id });
    const dlq = await bench.dlqCollector(name);
    await bench.publishMany("OrderPlaced", events);
    const runner = await bench.startRunner(definition);
    await runner.waitForOutcomes(30, 30_000);
    expect(failures()).toBeGreaterThanOrEqual(1);
    const effects = await effectsOf(name);
    expect(effects.map((e) => e.eventId)).toEqual(events.map((e) => e.event_id));
    expect(runner.outcomes.every((o) => o.outcome === "processed")).toBe(true);
    expect(dlq.records).toHaveLength(0);
    await dlq.stop();
  });

  it("a dependency outage (payment provider down) pauses the partition and dead-letters nothing", async () => {
    const name = group();
    const events = oneKey(10);
    const downUntil = Date.now() + 4_000;
    let calls = 0;
    const definition: ConsumerDefinition = {
      group: name,
      topics: ["orders"],
      handlers: {
        OrderPlaced: preparedHandler<"OrderPlaced", string>(
          async () => {
            calls += 1;
            if (Date.now() < downUntil) throw new DependencyUnavailableError("payment-provider", "provider answered 503", { code: "PROVIDER_UNAVAILABLE" });
            return "authorized";
          },
          (event, ctx) => recordEffect(event, ctx, name),
        ),
      },
    };
    const dlq = await bench.dlqCollector(name);
    await bench.publishMany("OrderPlaced", events);
    // Five attempts with fast retries (20-200 ms) would be spent well within the four seconds of outage.
    const runner = await bench.startRunner(definition);
    await runner.waitForOutcomes(10, 60_000);
    expect(runner.pauses).toBeGreaterThanOrEqual(2);
    expect(calls).toBeGreaterThan(10);
    expect(runner.outcomes.every((o) => o.outcome === "processed")).toBe(true);
    expect((await effectsOf(name)).map((e) => e.eventId)).toEqual(events.map((e) => e.event_id));
    expect(dlq.records).toHaveLength(0);
    await dlq.stop();
  });

  it("an outside call sees the effects of the same key's earlier records in the run (the run is split there)", async () => {
    const name = group();
    const placedEvents = Array.from({ length: 8 }, () => oneKey(1)[0]!);
    const marker = `${name}:placed`;
    const definition: ConsumerDefinition = {
      group: name,
      topics: ["orders"],
      handlers: {
        OrderPlaced: preparedHandler<"OrderPlaced", null>(
          async () => null,
          async (event, ctx) => void (await ctx.emit("OrderConfirmed", event.orderId, { customer_id: marker, total_minor: 1, currency: "EUR" })),
        ),
        OrderCancelled: preparedHandler<"OrderCancelled", boolean>(
          async (event, ctx) => (await ctx.db.rows(sql`SELECT 1 FROM outbox WHERE key = ${event.orderId} AND payload->>'customer_id' = ${marker}`)).length > 0,
          async (event, ctx, sawPlaced) =>
            void (await ctx.emit("OrderConfirmed", event.orderId, { customer_id: `${name}:saw:${sawPlaced}`, total_minor: 1, currency: "EUR" })),
        ),
      },
    };
    // Published before the runner starts: each order's OrderPlaced and OrderCancelled arrive in one fetched run.
    for (const placed of placedEvents) {
      await bench.publish("OrderPlaced", placed);
      await bench.publish("OrderCancelled", {
        event_id: randomUUID(),
        order_id: placed.order_id,
        occurred_at: Date.now(),
        customer_id: "c",
        total_minor: 1,
        currency: "EUR",
        reason: "test",
      });
    }
    const runner = await bench.startRunner(definition);
    await runner.waitForOutcomes(16, 30_000);
    const { rows } = await pool.query<{ seen: string }>("SELECT payload->>'customer_id' AS seen FROM outbox WHERE payload->>'customer_id' LIKE $1", [
      `${name}:saw:%`,
    ]);
    expect(rows.map((r) => r.seen)).toEqual(placedEvents.map(() => `${name}:saw:true`));
  });

  it("a rebalance in the middle of a run: every event is applied exactly once across both members", async () => {
    const name = group();
    const events = Array.from({ length: 12 }, () => oneKey(20)).flat();
    let entered!: () => void;
    const slowStarted = new Promise<void>((resolve) => (entered = resolve));
    const definition: ConsumerDefinition = {
      group: name,
      topics: ["orders"],
      handlers: {
        OrderPlaced: async (event, ctx) => {
          entered();
          await new Promise((resolve) => setTimeout(resolve, 5)); // keeps runs in flight while the group rebalances
          await recordEffect(event, ctx, name);
        },
      },
    };
    await bench.publishMany("OrderPlaced", events);
    const first = await bench.startRunner(definition);
    await slowStarted;
    const second = await bench.startRunner(definition);
    const ids = new Set(events.map((e) => e.event_id));
    await waitUntil(async () => new Set((await effectsOf(name)).map((e) => e.eventId)).size === ids.size, 90_000, "every event applied");
    await waitUntil(async () => first.outcomes.length + second.outcomes.length >= events.length, 30_000, "an outcome for every event");
    const effects = await effectsOf(name);
    expect(effects).toHaveLength(events.length); // none twice
    for (const orderId of new Set(events.map((e) => e.order_id))) {
      const expected = events.filter((e) => e.order_id === orderId).map((e) => e.event_id);
      const applied = effects.filter((e) => expected.includes(e.eventId)).map((e) => e.eventId);
      expect(applied).toEqual(expected); // per key, in offset order
    }
  });
});

describe("consumer runner, runs of several partitions in one transaction", () => {
  it("applies the runs of several partitions that are ready together in one transaction", async () => {
    const name = group();
    const events = Array.from({ length: 12 }, () => oneKey(3)).flat();
    // Published before the runner starts: its first fetch holds a run for every partition at once.
    await bench.publishMany("OrderPlaced", events);
    const runner = await bench.startRunner(
      { group: name, topics: ["orders"], handlers: { OrderPlaced: (e, ctx) => recordEffect(e, ctx, name) } },
      { overrides: { partitionsConcurrency: 6, lingerMs: 50 } },
    );
    await runner.waitForEvents(
      events.map((e) => e.event_id),
      60_000,
    );
    const effects = await effectsOf(name);
    expect(effects.map((e) => e.eventId).sort()).toEqual(events.map((e) => e.event_id).sort());
    const partitionOf = new Map(runner.outcomes.map((o) => [o.eventId, o.partition]));
    const partitionsByTx = new Map<string, Set<number>>();
    for (const effect of effects) partitionsByTx.set(effect.txid, (partitionsByTx.get(effect.txid) ?? new Set()).add(partitionOf.get(effect.eventId)!));
    expect(Math.max(...[...partitionsByTx.values()].map((partitions) => partitions.size))).toBeGreaterThan(1);
  });

  it("shares transactions across partitions; a poison record and a database error mid-batch cost only their own runs", async () => {
    const name = group();
    const keys = Array.from({ length: 8 }, () => oneKey(5));
    const events = keys.flat();
    const poison = keys[3]![2]!.event_id;
    const { definition, failures } = failingGroup(name, { poison, failOnce: keys[5]![1]!.event_id });
    const dlq = await bench.dlqCollector(name);
    // Published before the runner starts: its first fetch holds a run for every partition at once.
    await bench.publishMany("OrderPlaced", events);
    const runner = await bench.startRunner(definition, { overrides: { partitionsConcurrency: 6, lingerMs: 50 } });
    const good = events.filter((e) => e.event_id !== poison);
    await runner.waitForEvents(
      good.map((e) => e.event_id),
      60_000,
    ); // a dead-lettered outcome carries no event id
    await dlq.waitFor((records) => records.length >= 1, 10_000, "the poison record's dead letter");
    expect(failures()).toBeGreaterThanOrEqual(1);
    const effects = await effectsOf(name);
    expect(effects).toHaveLength(good.length); // none lost, none twice
    for (const key of keys) {
      const expected = key.filter((e) => e.event_id !== poison).map((e) => e.event_id);
      expect(effects.filter((e) => expected.includes(e.eventId)).map((e) => e.eventId)).toEqual(expected); // per key, in offset order
    }
    expect(runner.outcomes.filter((o) => o.outcome === "dead-lettered")).toHaveLength(1);
    expect(dlq.records).toHaveLength(1);
    await dlq.stop();
  });
});

describe("consumer runner, a frozen peer", () => {
  it("a process frozen mid-transaction (SIGSTOP) blocks a row only until its idle-in-transaction timeout", async () => {
    const sku = `FROZEN-${randomUUID().slice(0, 8)}`;
    await pool.query("INSERT INTO products (sku, name, price_minor, currency) VALUES ($1, $1, 100, 'EUR')", [sku]);
    await pool.query("INSERT INTO stock (sku, available) VALUES ($1, 1)", [sku]);
    const frozen = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("../../../test/support/consumer/hold-row-lock.ts", import.meta.url)), sku],
      {
        env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, DATABASE_IDLE_IN_TX_TIMEOUT_MS: "3000" },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        frozen.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("locked") && resolve());
        frozen.on("exit", (code) => reject(new Error(`hold-row-lock exited early (${code})`)));
      });
      frozen.kill("SIGSTOP");
      const name = group();
      const events = oneKey(3);
      const runner = await bench.startRunner({
        group: name,
        topics: ["orders"],
        handlers: {
          OrderPlaced: async (event, ctx) => {
            await ctx.db.execute(sql`UPDATE stock SET updated_at = now() WHERE sku = ${sku}`);
            await recordEffect(event, ctx, name);
          },
        },
      });
      const startedAt = Date.now();
      await bench.publishMany("OrderPlaced", events);
      // Without the session timeout the frozen transaction would hold the row for ever (a host that lost power:
      // until TCP keepalive, ~2 h); the statement timeout alone only turns the wait into endless pauses.
      await runner.waitForOutcomes(3, 45_000);
      expect(Date.now() - startedAt).toBeLessThan(45_000);
      expect((await effectsOf(name)).map((e) => e.eventId)).toEqual(events.map((e) => e.event_id));
    } finally {
      frozen.kill("SIGKILL");
      frozen.kill("SIGCONT");
      await pool.query("DELETE FROM stock WHERE sku = $1", [sku]);
      await pool.query("DELETE FROM products WHERE sku = $1", [sku]);
    }
  });
});
