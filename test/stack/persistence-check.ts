import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createSchemaRegistry, decode, encode, readSchemaId, registerSchema, type AvroRecordSchema } from "../../services/shared/avro/schema-registry.ts";
import { deleteTopics, ensureTopics, withAdmin } from "../../services/shared/kafka/kafka-admin.ts";
import { createProducer } from "../../services/shared/kafka/kafka-client.ts";
import { stackPaths } from "../../scripts/stack/stack-config.ts";
import { consumeFromBeginning, createTestKafka, testStackEndpoints } from "./kafka-test-helpers.ts";

/**
 * Proves that the stack keeps its data across `stack down` + `stack up`: a record written to Kafka before the
 * restart is still there after it, and its schema id (bytes 1..4) still resolves in the restarted registry.
 * The two halves run in different processes, so what the second needs is kept in .stack/test-persistence.json.
 */

export const PERSISTENCE_SCHEMA: AvroRecordSchema = {
  type: "record",
  name: "PersistenceProbe",
  namespace: "dev.orderflow.test",
  fields: [
    { name: "probe_id", type: "string" },
    { name: "written_at", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "note", type: "string" },
  ],
};

export interface PersistenceRecord {
  topic: string;
  partition: number;
  offset: number;
  schemaId: number;
  subject: string;
  value: { probe_id: string; written_at: number; note: string };
}

export interface PersistenceOptions {
  brokers?: string[];
  registryUrl?: string;
  /** Where the record of what was written is kept; .stack/test-persistence.json by default. */
  stateFile?: string;
}

function resolveOptions(options: PersistenceOptions) {
  const endpoints = testStackEndpoints();
  return {
    brokers: options.brokers ?? endpoints.brokers,
    registryUrl: options.registryUrl ?? endpoints.registryUrl,
    stateFile: options.stateFile ?? path.join(stackPaths().root, "test-persistence.json"),
  };
}

/** First half, before the restart: writes one Avro record to a new topic and remembers where it is. */
export async function writePersistenceProbe(options: PersistenceOptions = {}): Promise<PersistenceRecord> {
  const { brokers, registryUrl, stateFile } = resolveOptions(options);
  const kafka = createTestKafka(brokers);
  const topic = `test.persistence.${randomUUID().slice(0, 8)}`;
  await withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]));
  const registry = createSchemaRegistry(registryUrl);
  const { id: schemaId, subject } = await registerSchema(registry, topic, PERSISTENCE_SCHEMA);
  const value = { probe_id: randomUUID(), written_at: Date.now(), note: "written before the restart" };
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    const [metadata] = await producer.send({
      topic,
      acks: -1,
      messages: [{ key: value.probe_id, value: await encode(registry, schemaId, value) }],
    });
    if (!metadata || metadata.baseOffset === undefined) throw new Error(`no offset reported for the probe written to ${topic}`);
    const record: PersistenceRecord = { topic, partition: metadata.partition, offset: Number(metadata.baseOffset), schemaId, subject, value };
    writeFileSync(stateFile, `${JSON.stringify(record, null, 2)}\n`);
    return record;
  } finally {
    await producer.disconnect();
  }
}

/**
 * Second half, after the restart: reads the probe back from Kafka and decodes it through a new registry client
 * (no cache), so the schema must come from the registry's durable storage. Throws with what differed.
 * With `cleanup` (default) the probe's topic and state file are removed once it passed.
 */
export async function verifyPersistenceProbe(options: PersistenceOptions & { cleanup?: boolean } = {}): Promise<PersistenceRecord> {
  const { brokers, registryUrl, stateFile } = resolveOptions(options);
  if (!existsSync(stateFile)) throw new Error(`${stateFile} is missing: run writePersistenceProbe() before the restart`);
  const expected = JSON.parse(readFileSync(stateFile, "utf8")) as PersistenceRecord;
  const kafka = createTestKafka(brokers);
  const consumed = await consumeFromBeginning(kafka, expected.topic, expected.offset + 1);
  const found = consumed.find(({ partition, message }) => partition === expected.partition && Number(message.offset) === expected.offset);
  if (!found?.message.value) throw new Error(`the probe at ${expected.topic}/${expected.partition}@${expected.offset} is gone after the restart`);
  const schemaId = readSchemaId(found.message.value);
  if (schemaId !== expected.schemaId) throw new Error(`the probe carries schema id ${schemaId}, expected ${expected.schemaId}`);
  const decoded = await decode(createSchemaRegistry(registryUrl), found.message.value);
  if (JSON.stringify(decoded) !== JSON.stringify(expected.value)) {
    throw new Error(`the probe decoded to ${JSON.stringify(decoded)}, expected ${JSON.stringify(expected.value)}`);
  }
  if (options.cleanup ?? true) {
    await withAdmin(kafka, (admin) => deleteTopics(admin, [expected.topic]));
    rmSync(stateFile, { force: true });
  }
  return expected;
}
