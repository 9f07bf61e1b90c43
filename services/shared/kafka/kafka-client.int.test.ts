/**
 * A connection that goes silent (half-open: nothing arrives, nothing closes) must not wedge a consumer. kafkajs
 * keeps a connection whose request timed out and sends every later request on it; createKafka's client resets
 * the broker's sockets on a request timeout instead, so the next request opens a new connection. The broker is
 * this file's own, behind a TCP proxy it advertises (every client connection passes the proxy).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDedicatedKafka, type DedicatedKafka } from "../../../test/support/chaos/dedicated-kafka.ts";
import { ensureTopics, withAdmin } from "./kafka-admin.ts";
import { createKafka, createProducer, type KafkaLogRecord } from "./kafka-client.ts";
import { createConsumer } from "./kafka-consumer.ts";
import type { Consumer, Kafka } from "./kafka-types.ts";

const REQUEST_TIMEOUT_MS = 1_500;
const topic = `test.silent-link-${randomUUID().slice(0, 8)}`;
let broker: DedicatedKafka;
let kafka: Kafka;
let consumer: Consumer | undefined;
const warnings: KafkaLogRecord[] = [];
// Crashes after the silence began: a fresh broker's group coordinator may still be loading when the consumer
// first joins, and kafkajs reports that as a crash it restarts from, which is not what is tested here.
const crashes: string[] = [];
let silenced = false;
// A set: a rejoin after the reset may deliver an uncommitted record again, which is not what is tested here.
const received = new Set<string>();

async function produce(values: string[]): Promise<void> {
  // A client of its own: its connections are opened after the silence, so they work.
  const producer = createProducer(createKafka({ brokers: [broker.brokers], clientId: "silent-link-producer", logLevel: "nothing" }), {
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    await producer.send({ topic, messages: values.map((value) => ({ key: value, value })) });
  } finally {
    await producer.disconnect();
  }
}

async function waitForReceived(count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (received.size < count) {
    if (Date.now() > deadline) throw new Error(`received ${received.size} of ${count} records within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  broker = await startDedicatedKafka();
  kafka = createKafka({
    brokers: [broker.brokers],
    clientId: "silent-link-consumer",
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    retries: 3,
    logLevel: "warn",
    log: (record) => warnings.push(record),
  });
  await withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]));
}, 180_000);

afterAll(async () => {
  await consumer?.disconnect();
  await broker?.stop();
});

describe("a Kafka connection that goes silent", () => {
  it("is reset after one request timeout, and the consumer goes on reading on a new connection", async () => {
    consumer = createConsumer(kafka, { groupId: `${topic}.group`, maxWaitTimeInMs: 100, sessionTimeoutMs: 30_000, heartbeatIntervalMs: 3_000 });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (silenced) crashes.push(payload.error.message);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.add(String(message.value)) });
    await produce(["before-1", "before-2"]);
    await waitForReceived(2, 60_000);

    silenced = true;
    expect(broker.proxy.silenceOpen()).toBeGreaterThan(0);
    await produce(["after-1", "after-2"]);
    // Without the reset every retry of the fetch goes to the same silent socket and times out too, until the
    // consumer crashes (retries exhausted) and kafkajs restarts it, or TCP keepalive gives up (minutes). With it:
    // one timeout, a reconnect, the retried fetch answers, and the consumer never crashes.
    await waitForReceived(4, 60_000);
    expect(crashes).toEqual([]);
    expect([...received].sort()).toEqual(["after-1", "after-2", "before-1", "before-2"]);
    expect(warnings.filter((w) => w.message === "request timed out: connection reset").length).toBeGreaterThan(0);
  }, 120_000);
});
