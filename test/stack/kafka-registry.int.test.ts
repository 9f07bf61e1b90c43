import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createSchemaRegistry, decode, encode, readSchemaId, registerSchema, type AvroRecordSchema } from "../../services/shared/avro/schema-registry.ts";
import { deleteTopics, describeCluster, ensureTopics, fetchTopicOffsets, withAdmin } from "../../services/shared/kafka/kafka-admin.ts";
import { createProducer } from "../../services/shared/kafka/kafka-client.ts";
import { startDedicatedStack } from "../support/dedicated-stack.ts";
import { consumeFromBeginning, createTestKafka, testStackEndpoints } from "./kafka-test-helpers.ts";
import { verifyPersistenceProbe, writePersistenceProbe } from "./persistence-check.ts";

const { brokers, registryUrl } = testStackEndpoints();

const ROUND_TRIP_SCHEMA: AvroRecordSchema = {
  type: "record",
  name: "RoundTripProbe",
  namespace: "dev.orderflow.test",
  fields: [
    { name: "probe_id", type: "string" },
    { name: "amount_minor", type: "long" },
    { name: "currency", type: "string" },
    { name: "note", type: ["null", "string"], default: null },
  ],
};

/** GET against the Confluent API, parsed; the test's own view of the registry, independent of the library. */
async function registryGet(pathAndQuery: string): Promise<unknown> {
  const response = await fetch(`${registryUrl}${pathAndQuery}`, { signal: AbortSignal.timeout(5_000) });
  expect(response.status, `GET ${pathAndQuery}`).toBe(200);
  return response.json();
}

describe("Kafka + schema registry", () => {
  const kafka = createTestKafka(brokers);
  const topics: string[] = [];
  afterAll(async () => {
    await withAdmin(kafka, (admin) => deleteTopics(admin, topics));
  });

  it("answers a protocol round trip and enforces BACKWARD compatibility globally", async () => {
    const cluster = await withAdmin(kafka, describeCluster);
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);
    expect(await registryGet("/config")).toEqual({ compatibilityLevel: "BACKWARD" });
  });

  it("carries an Avro record through Kafka in the Confluent wire format and decodes it back", async () => {
    const topic = `test.kafka-registry.${randomUUID().slice(0, 8)}`;
    topics.push(topic);
    const created = await withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]));
    expect(created).toEqual([topic]);
    // Idempotent: a second call creates nothing and does not fail.
    expect(await withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]))).toEqual([]);

    const registry = createSchemaRegistry(registryUrl);
    const { id, subject } = await registerSchema(registry, topic, ROUND_TRIP_SCHEMA);
    expect(subject).toBe(`${topic}-dev.orderflow.test.RoundTripProbe`);
    expect((await registerSchema(registry, topic, ROUND_TRIP_SCHEMA)).id).toBe(id);
    const latest = (await registryGet(`/subjects/${encodeURIComponent(subject)}/versions/latest`)) as { id: number };
    expect(latest.id).toBe(id);

    const value = { probe_id: randomUUID(), amount_minor: 12_345, currency: "EUR", note: "round trip" };
    const encoded = await encode(registry, id, value);
    expect(encoded[0]).toBe(0);
    expect(encoded.readUInt32BE(1)).toBe(id);

    const producer = createProducer(kafka);
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: value.probe_id, value: encoded, headers: { "event-type": "RoundTripProbe" } }] });
    } finally {
      await producer.disconnect();
    }

    const [consumed] = await consumeFromBeginning(kafka, topic, 1);
    const body = consumed?.message.value;
    expect(body).toBeInstanceOf(Buffer);
    if (!body) return;
    expect(readSchemaId(body)).toBe(id);
    expect(consumed.message.key?.toString()).toBe(value.probe_id);
    expect(consumed.message.headers?.["event-type"]?.toString()).toBe("RoundTripProbe");
    // A fresh client: the schema is fetched from the registry by the id in the record, not from a cache.
    expect(await decode(createSchemaRegistry(registryUrl), body)).toEqual(value);

    const offsets = await withAdmin(kafka, (admin) => fetchTopicOffsets(admin, topic));
    expect(offsets.reduce((sum, p) => sum + p.high - p.low, 0)).toBe(1);
  });

  it("rejects a schema change that breaks BACKWARD compatibility", async () => {
    const topic = `test.compat.${randomUUID().slice(0, 8)}`;
    const registry = createSchemaRegistry(registryUrl, { retries: 0 });
    await registerSchema(registry, topic, ROUND_TRIP_SCHEMA);
    // A new field without a default: readers of the new schema cannot read old records.
    const breaking = { ...ROUND_TRIP_SCHEMA, fields: [...ROUND_TRIP_SCHEMA.fields, { name: "required_new", type: "string" }] };
    await expect(registerSchema(registry, topic, breaking)).rejects.toThrow();
    const compatible = { ...ROUND_TRIP_SCHEMA, fields: [...ROUND_TRIP_SCHEMA.fields, { name: "optional_new", type: "string", default: "" }] };
    await expect(registerSchema(registry, topic, compatible)).resolves.toMatchObject({ id: expect.any(Number) });
  });

  it("keeps records and schema ids across a restart of Kafka and the registry", async () => {
    // The same components and artefacts as the stack, but instances of this test's own: the shared broker and
    // registry are what `npm start` and the other test files use, so this test does not stop those.
    const dedicated = await startDedicatedStack(`persistence-${randomUUID().slice(0, 8)}`, { withRegistry: true });
    try {
      const endpoints = { brokers: dedicated.brokers, registryUrl: dedicated.registryUrl };
      const written = await writePersistenceProbe(endpoints);
      await dedicated.stop();
      expect(await dedicated.answering()).toEqual([false, false]);
      await dedicated.start();
      const verified = await verifyPersistenceProbe(endpoints);
      expect(verified.schemaId).toBe(written.schemaId);
    } finally {
      await dedicated.close();
    }
  }, 300_000);
});
