import { randomBytes, randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { AppConfig } from "../../services/shared/config/config-schema.ts";
import { topicName } from "../../services/shared/config/load-config.ts";
import { allTopicNames } from "../../services/shared/events/topic-catalogue.ts";
import { deleteTopics, ensureTopics, withAdmin } from "../../services/shared/kafka/kafka-admin.ts";
import { createKafka, createProducer, parseBrokers } from "../../services/shared/kafka/kafka-client.ts";
import type { Consumer, Kafka } from "../../services/shared/kafka/kafka-types.ts";
import type { LagReport } from "../../services/shared/monitoring/lag-report.ts";

/** A fresh topic prefix per test file: its topics and consumer groups are its own. */
export function uniqueTopicPrefix(name: string): string {
  return `test.${name}-${randomBytes(4).toString("hex")}.`;
}

export function monitorKafka(config: AppConfig): Kafka {
  return createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: "monitor-test", logLevel: "nothing" });
}

export async function provisionTestTopics(kafka: Kafka, config: AppConfig, partitions: number): Promise<void> {
  await withAdmin(kafka, (admin) =>
    ensureTopics(
      admin,
      allTopicNames(config).map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    ),
  );
}

export async function removeTestTopics(kafka: Kafka, config: AppConfig, groupIds: string[]): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    await admin.deleteGroups(groupIds).catch(() => undefined);
    await deleteTopics(admin, allTopicNames(config));
  });
}

/** Sends `count` small messages with random keys to a logical topic (not Avro: the monitor only counts offsets). */
/** `count` records with random keys; with `spreadOver`, round-robin over that many partitions so every one gets some. */
export async function produce(kafka: Kafka, config: AppConfig, logical: string, count: number, spreadOver?: number): Promise<void> {
  const producer = createProducer(kafka, { allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({ key: randomUUID(), value: "x", ...(spreadOver ? { partition: i % spreadOver } : {}) }));
    await producer.send({ topic: topicName(config, logical), messages, acks: -1, timeout: 10_000 });
  } finally {
    await producer.disconnect();
  }
}

/** A consumer in `groupId` that reads (and commits) everything on the given logical topics. */
export async function startDrainingConsumer(kafka: Kafka, config: AppConfig, groupId: string, logicalTopics: string[]): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: logicalTopics.map((logical) => topicName(config, logical)), fromBeginning: true });
  await consumer.run({ eachMessage: async () => undefined });
  return consumer;
}

export async function fetchLagReport(app: FastifyInstance, token?: string): Promise<LagReport> {
  const response = await app.inject({ method: "GET", url: "/monitor/lag?fresh=1", headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (response.statusCode !== 200) throw new Error(`/monitor/lag answered ${response.statusCode}: ${response.body}`);
  return response.json<LagReport>();
}

/** Polls the report until `accept` holds; fails with the last report after the bound. */
export async function waitForReport(
  app: FastifyInstance,
  accept: (report: LagReport) => boolean,
  timeoutMs: number,
  what: string,
  token?: string,
): Promise<LagReport> {
  const deadline = Date.now() + timeoutMs;
  let last: LagReport | undefined;
  while (Date.now() < deadline) {
    last = await fetchLagReport(app, token);
    if (accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last report: ${JSON.stringify(last).slice(0, 2000)}`);
}
