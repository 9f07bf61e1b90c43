import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TcpProxy } from "../../../test/support/order-api/tcp-proxy.ts";
import { TEST_DATABASE_URL } from "../../../test/support/stack-test-kit.ts";
import { resetGroupOffsetsToEarliest } from "../kafka/kafka-consumer.ts";
import { describeGroups, fetchGroupOffsets, withAdmin } from "../kafka/kafka-admin.ts";
import { PermanentError, type ConsumerDefinition, type EventHandler } from "./consumer-handler.ts";
import { DLQ_HEADERS } from "./dead-letter.ts";
import { ConsumerTestBench, waitUntil } from "../../../test/support/consumer/consumer-test-kit.ts";
import { orderPlaced } from "../../../test/support/consumer/event-factory.ts";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

let bench: ConsumerTestBench;
let pool: pg.Pool;
const orderIds = new Set<string>();

/** A group whose OrderPlaced handler emits OrderConfirmed (an outbox row: the countable effect) unless told to fail. */
function confirmingGroup(failures: Map<string, (attempt: number) => void> = new Map()): ConsumerDefinition {
  const group = `runner-test-${randomUUID().slice(0, 8)}`;
  return {
    group,
    topics: ["orders"],
    handlers: {
      OrderPlaced: async (event, ctx) => {
        failures.get(event.orderId)?.(ctx.attempt);
        await ctx.emit("OrderConfirmed", event.orderId, { customer_id: group, total_minor: event.payload.total_minor, currency: event.payload.currency });
      },
    },
  };
}

async function effects(ids: Iterable<string>): Promise<number> {
  const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE key = ANY($1::text[]) AND event_type = 'OrderConfirmed'", [
    [...ids],
  ]);
  return Number(rows[0]!.n);
}

function placed(count: number, orderId?: string) {
  return Array.from({ length: count }, () => {
    const event = orderPlaced(undefined, orderId);
    orderIds.add(event.order_id);
    return event;
  });
}

beforeAll(() => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
});

// A fresh TOPIC_PREFIX per test: each test's groups read only that test's records.
beforeEach(async () => {
  bench = await ConsumerTestBench.create("runner");
});

afterEach(async () => {
  await bench?.close();
});

afterAll(async () => {
  await pool?.query("DELETE FROM outbox WHERE key = ANY($1::text[])", [[...orderIds]]);
  await pool?.end();
});

describe("consumer runner", () => {
  it("dead-letters poison records at once with their error headers while the records behind them are processed", async () => {
    const definition = confirmingGroup();
    const dlq = await bench.dlqCollector(definition.group);
    const orderId = randomUUID(); // one key: every record below lands on the same partition, in this order
    orderIds.add(orderId);
    await bench.publishRaw("orders", orderId, Buffer.from("this is not avro"), { traceparent: TRACEPARENT });
    await bench.publishRaw("orders", orderId, Buffer.from([0, 0x7f, 0xff, 0xff, 0x0f, 1, 2, 3])); // unknown schema id
    const good = placed(3, orderId);
    await bench.publishMany("OrderPlaced", good, { traceparent: TRACEPARENT });

    const started = Date.now();
    const runner = await bench.startRunner(definition);
    const outcomes = await runner.waitForOutcomes(5, 30_000);
    await dlq.waitFor((records) => records.length >= 2, 10_000, "2 dead letters");
    expect(outcomes.map((o) => o.outcome)).toEqual(["dead-lettered", "dead-lettered", "processed", "processed", "processed"]);
    expect(new Set(outcomes.map((o) => o.partition)).size).toBe(1);
    expect(outcomes.slice(0, 2).every((o) => o.attempts === 1)).toBe(true);

    const [notAvro, unknownSchema] = dlq.records;
    expect(notAvro!.value.toString()).toBe("this is not avro");
    expect(notAvro!.key).toBe(orderId);
    expect(notAvro!.headers).toMatchObject({
      [DLQ_HEADERS.originalTopic]: bench.topic("orders"),
      [DLQ_HEADERS.originalPartition]: String(outcomes[0]!.partition),
      [DLQ_HEADERS.originalOffset]: outcomes[0]!.offset,
      [DLQ_HEADERS.errorCode]: "NOT_WIRE_FORMAT",
      [DLQ_HEADERS.attempts]: "1",
      [DLQ_HEADERS.consumerGroup]: definition.group,
      traceparent: TRACEPARENT,
    });
    expect(notAvro!.headers[DLQ_HEADERS.errorMessage]).toMatch(/wire format/);
    expect(Date.parse(notAvro!.headers[DLQ_HEADERS.firstFailureAt]!)).toBeGreaterThanOrEqual(started - 1_000);
    expect(unknownSchema!.headers[DLQ_HEADERS.errorCode]).toBe("UNKNOWN_SCHEMA_ID");

    expect(await effects(good.map((e) => e.order_id))).toBe(3);
    // emit() stored the processing span's context: the same trace as the producer's traceparent.
    const { rows } = await pool.query<{ headers: { traceparent?: string } }>("SELECT headers FROM outbox WHERE key = $1 AND event_type = 'OrderConfirmed'", [
      orderId,
    ]);
    expect(rows[0]!.headers.traceparent?.split("-")[1]).toBe(TRACEPARENT.split("-")[1]);
    await dlq.stop();
  });

  it("retries transient failures with backoff, dead-letters permanent ones at once and exhausted ones after the last attempt", async () => {
    const [flaky, permanent, broken] = [placed(1)[0]!, placed(1)[0]!, placed(1)[0]!];
    const failures = new Map<string, (attempt: number) => void>([
      [
        flaky.order_id,
        (attempt) => {
          if (attempt < 3) throw new Error(`flaky attempt ${attempt}`);
        },
      ],
      [
        permanent.order_id,
        () => {
          throw new PermanentError("no such customer", { code: "UNKNOWN_CUSTOMER" });
        },
      ],
      [
        broken.order_id,
        () => {
          throw new Error("always broken");
        },
      ],
    ]);
    const definition = confirmingGroup(failures);
    const dlq = await bench.dlqCollector(definition.group);
    await bench.publishMany("OrderPlaced", [flaky, permanent, broken]);
    const runner = await bench.startRunner(definition);
    const outcomes = await runner.waitForOutcomes(3, 30_000);
    await dlq.waitFor((records) => records.length >= 2, 10_000, "2 dead letters");

    expect(outcomes.filter((o) => o.outcome === "dead-lettered")).toHaveLength(2);
    expect(outcomes.find((o) => o.eventId === flaky.event_id)).toMatchObject({ outcome: "processed", attempts: 3 });
    expect(await effects([flaky.order_id])).toBe(1);
    expect(await effects([permanent.order_id, broken.order_id])).toBe(0);
    const headersOf = (key: string) => dlq.records.find((r) => r.key === key)!.headers;
    expect(headersOf(permanent.order_id)).toMatchObject({ [DLQ_HEADERS.errorCode]: "UNKNOWN_CUSTOMER", [DLQ_HEADERS.attempts]: "1" });
    expect(headersOf(broken.order_id)).toMatchObject({ [DLQ_HEADERS.attempts]: String(bench.config.CONSUMER_MAX_ATTEMPTS) });
    expect(headersOf(broken.order_id)[DLQ_HEADERS.errorMessage]).toContain("always broken");
    await dlq.stop();
  });

  it("replaying the topic from offset 0 with a new consumer instance produces no new effects", async () => {
    const events = placed(40);
    const definition = confirmingGroup();
    await bench.publishMany("OrderPlaced", events);
    const first = await bench.startRunner(definition);
    // 40 outcomes is not enough: a rebalance right after the first join can redeliver records, whose (duplicate)
    // outcomes count too. Wait for the 40 effects themselves.
    const ids = events.map((e) => e.order_id);
    await waitUntil(async () => (await effects(ids)) === 40, 30_000, "40 orders processed by the first runner");
    await first.stop();
    expect(await effects(events.map((e) => e.order_id))).toBe(40);

    await withAdmin(bench.clients.kafka, (admin) => resetGroupOffsetsToEarliest(admin, first.runner.groupId, bench.topic("orders")));
    const replay = await bench.startRunner(definition);
    const outcomes = await replay.waitForOutcomes(40, 30_000);
    expect(outcomes.every((o) => o.outcome === "duplicate")).toBe(true);
    expect(await effects(events.map((e) => e.order_id))).toBe(40);
  });

  it("pauses on a database outage and resumes afterwards without dead-lettering anything", async () => {
    const target = new URL(TEST_DATABASE_URL);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const port = await proxy.start();
    const proxied = new URL(TEST_DATABASE_URL);
    proxied.port = String(port);
    const definition = confirmingGroup();
    const dlq = await bench.dlqCollector(definition.group);
    try {
      const runner = await bench.startRunner(definition, { databaseUrl: proxied.toString() });
      await proxy.cut();
      const events = placed(20);
      await bench.publishMany("OrderPlaced", events);
      await waitUntil(async () => runner.pauses >= 3, 30_000, "the runner to pause (and retry) on the outage");
      expect(runner.outcomes).toHaveLength(0);
      await proxy.restore();
      const outcomes = await runner.waitForOutcomes(20, 60_000);
      expect(outcomes.every((o) => o.outcome === "processed")).toBe(true);
      expect(await effects(events.map((e) => e.order_id))).toBe(20);
      expect(dlq.records).toHaveLength(0);
    } finally {
      await proxy.stop();
      await dlq.stop();
    }
  });

  it("stop() finishes the in-flight message, commits its offset and leaves the group within the grace period", async () => {
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    const definition = confirmingGroup(new Map());
    const slow = definition.handlers.OrderPlaced as EventHandler<"OrderPlaced">;
    const [event] = placed(1);
    const runner = await bench.startRunner({
      ...definition,
      handlers: {
        OrderPlaced: async (envelope, ctx) => {
          entered();
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          await slow(envelope, ctx);
        },
      },
    });
    await bench.publish("OrderPlaced", event!);
    await inFlight;
    const stopping = Date.now();
    await runner.stop();
    const took = Date.now() - stopping;

    expect(took).toBeLessThan(bench.config.SHUTDOWN_GRACE_MS);
    expect(runner.outcomes).toMatchObject([{ outcome: "processed", eventId: event!.event_id }]);
    expect(await effects([event!.order_id])).toBe(1);
    const { committed, group } = await withAdmin(bench.clients.kafka, async (admin) => ({
      committed: await fetchGroupOffsets(admin, runner.runner.groupId, [bench.topic("orders")]),
      group: (await describeGroups(admin, [runner.runner.groupId]))[0],
    }));
    const partition = runner.outcomes[0]!.partition;
    expect(committed.find((c) => c.partition === partition)?.offset).toBe(Number(runner.outcomes[0]!.offset) + 1);
    expect(group).toMatchObject({ state: "Empty", members: [] });
  });
});
