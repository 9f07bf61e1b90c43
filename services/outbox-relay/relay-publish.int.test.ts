import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchemaRegistry, readSchemaId } from "../shared/avro/schema-registry.ts";
import { createLogger } from "../shared/logging/create-logger.ts";
import type { OutboxRelay } from "./outbox-relay.ts";
import { assembleRelay, type RelayAssembly } from "./relay-setup.ts";
import { startCollector, testConfig, testKafka, testPool, uniquePrefix, waitUntil, useIsolatedDatabase } from "../../test/support/stack-test-kit.ts";
import { defaultPartition, deleteKeys, insertOutbox, makeEvents, orderPlacedPayload } from "../../test/support/relay/relay-test-kit.ts";

const database = await useIsolatedDatabase("relay");
const prefix = uniquePrefix("relay");
const config = testConfig(prefix);
const pool = testPool();
const logger = createLogger({ service: "relay-test", level: "silent" });
const keys: string[] = [];
let assembly: RelayAssembly;
let relay: OutboxRelay;
let collector: Awaited<ReturnType<typeof startCollector>>;

beforeAll(async () => {
  assembly = await assembleRelay(config, logger, { pollIntervalMs: 20, maxEncodeAttempts: 2, backoff: { initialMs: 50, maxMs: 200, factor: 2 } });
  relay = assembly.relay;
  collector = await startCollector(testKafka(config), [`${prefix}orders`]);
  await relay.start();
});

afterAll(async () => {
  await relay?.stop();
  await collector?.stop();
  await deleteKeys(pool, keys);
  await pool.end();
  await database.drop();
});

describe("outbox relay", () => {
  it("publishes a row a plain consumer reads back: wire format, registry id, payload, key, partition, headers", async () => {
    const orderId = randomUUID();
    const eventId = randomUUID();
    keys.push(orderId);
    const payload = orderPlacedPayload(orderId, eventId, 1_764_000_000_123);
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await insertOutbox(pool, [{ key: orderId, eventId, payload }], { headers: { traceparent } });

    await collector.waitFor((records) => records.some((r) => r.eventId === eventId), 30_000, "the record");
    const record = collector.records.find((r) => r.eventId === eventId)!;
    expect(record.value[0]).toBe(0);
    const schemaId = readSchemaId(record.value)!;
    const registry = createSchemaRegistry(config.SCHEMA_REGISTRY_URL);
    expect(await registry.getSchema(schemaId)).toBeDefined();
    expect(await registry.decode(record.value)).toEqual(payload);
    expect(record.key).toBe(orderId);
    expect(record.partition).toBe(defaultPartition(orderId, config.TOPIC_PARTITIONS));
    expect(record.headers["event-type"]).toBe("OrderPlaced");
    // Telemetry is off in tests: the stored traceparent passes through (with the SDK on it is the publish span's).
    expect(record.headers.traceparent?.split("-")[1]).toBe("0af7651916cd43dd8448eb211c80319c");

    // The mark stores where Kafka put the record: the partition and offset the consumer read it at.
    const { rows } = await pool.query<{ published_at: Date | null; kafka_partition: number | null; kafka_offset: string | null }>(
      "SELECT published_at, kafka_partition, kafka_offset::text FROM outbox WHERE event_id = $1",
      [eventId],
    );
    expect(rows[0]?.published_at).toBeInstanceOf(Date);
    expect({ partition: rows[0]?.kafka_partition, offset: rows[0]?.kafka_offset }).toEqual({ partition: record.partition, offset: String(record.offset) });
  });

  it("stores each row's own offset when one batch puts several rows of one key on a partition", async () => {
    const events = makeEvents(3, 4);
    keys.push(...new Set(events.map((event) => event.key)));
    await insertOutbox(pool, events);
    const ids = new Set(events.map((event) => event.eventId));
    await collector.waitFor((records) => records.filter((r) => ids.has(r.eventId)).length >= events.length, 30_000, "every record of the batch");
    const { rows } = await pool.query<{ event_id: string; kafka_partition: number | null; kafka_offset: string | null }>(
      "SELECT event_id::text, kafka_partition, kafka_offset::text FROM outbox WHERE event_id = ANY($1::uuid[])",
      [[...ids]],
    );
    const stored = Object.fromEntries(rows.map((row) => [row.event_id, `${row.kafka_partition}@${row.kafka_offset}`]));
    const consumed = Object.fromEntries(collector.records.filter((r) => ids.has(r.eventId)).map((r) => [r.eventId, `${r.partition}@${r.offset}`]));
    expect(stored).toEqual(consumed);
  });

  it("marks an unencodable row failed after bounded attempts; it holds back only its own order", async () => {
    const [bad, behindBad, other] = makeEvents(2, 2).filter((_, i) => i !== 1);
    // events: [k0 e0, k1 e0, k0 e1, k1 e1] minus index 1 -> k0 e0 (bad), k0 e1 (behind it), k1 e1 (other order)
    keys.push(bad!.key, other!.key);
    await insertOutbox(pool, [{ ...bad!, payload: { ...bad!.payload, total_minor: "not a number" } }, behindBad!, other!]);

    await waitUntil(
      async () => {
        const { rows } = await pool.query<{ failed_at: Date | null }>("SELECT failed_at FROM outbox WHERE event_id = $1", [bad!.eventId]);
        return rows[0]?.failed_at instanceof Date;
      },
      30_000,
      "the bad row to be marked failed",
    );
    await collector.waitFor((records) => records.some((r) => r.eventId === other!.eventId), 30_000, "the other order's event");

    const { rows } = await pool.query<{ event_id: string; attempts: number; last_error: string | null; published_at: Date | null }>(
      "SELECT event_id::text, attempts, last_error, published_at FROM outbox WHERE event_id = ANY($1::uuid[]) ORDER BY id",
      [[bad!.eventId, behindBad!.eventId]],
    );
    expect(rows[0]).toMatchObject({ attempts: 2, published_at: null });
    expect(rows[0]?.last_error).toContain("total_minor");
    expect(rows[1]).toMatchObject({ published_at: null });
    expect(collector.records.some((r) => r.eventId === behindBad!.eventId)).toBe(false);

    await assembly.relay.refreshBacklog();
    expect(assembly.metrics.failedRows).toBeGreaterThanOrEqual(1);
  });

  it("an unknown event type is a permanent encode failure too", async () => {
    const [event] = makeEvents(1, 1);
    keys.push(event!.key);
    await insertOutbox(pool, [event!], { eventType: "OrderTeleported" });
    await waitUntil(
      async () => {
        const { rows } = await pool.query<{ last_error: string | null; failed_at: Date | null }>(
          "SELECT last_error, failed_at FROM outbox WHERE event_id = $1",
          [event!.eventId],
        );
        return rows[0]?.failed_at instanceof Date && (rows[0].last_error ?? "").includes("OrderTeleported");
      },
      30_000,
      "the unknown type to be marked failed",
    );
  });

  it("retention deletes published rows older than the period, in batches, and keeps the rest", async () => {
    const events = makeEvents(3, 1);
    keys.push(...events.map((e) => e.key));
    await insertOutbox(pool, events);
    await pool.query(`UPDATE outbox SET published_at = now(), created_at = now() - make_interval(hours => $2::int + 1) WHERE event_id = ANY($1::uuid[])`, [
      events.slice(0, 2).map((e) => e.eventId),
      config.OUTBOX_RETENTION_HOURS,
    ]);
    await relay.runRetention();
    const { rows } = await pool.query<{ event_id: string }>("SELECT event_id::text FROM outbox WHERE event_id = ANY($1::uuid[])", [
      events.map((e) => e.eventId),
    ]);
    expect(rows.map((r) => r.event_id)).toEqual([events[2]!.eventId]);
  });

  it("exposes metrics as plain numbers", async () => {
    await relay.refreshBacklog();
    const snapshot = assembly.metrics.snapshot();
    expect(snapshot.publishedTotal).toBeGreaterThanOrEqual(2);
    expect(snapshot.ownedShards).toBe(config.RELAY_SHARDS);
    expect(snapshot.createdToAckedSeconds.count).toBe(snapshot.publishedTotal);
    expect(typeof snapshot.oldestUnpublishedAgeSeconds).toBe("number");
  });
});
