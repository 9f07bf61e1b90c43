import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareTestDatabase, testApp, testConfig, testPrisma } from "../support/order-api/order-api-harness.ts";
import type { AppConfig } from "../../services/shared/config/config-schema.ts";
import { topicName } from "../../services/shared/config/load-config.ts";
import type { PrismaClient } from "../../services/shared/db/index.ts";
import { fetchTopicOffsets, withAdmin } from "../../services/shared/kafka/kafka-admin.ts";
import type { Consumer, Kafka } from "../../services/shared/kafka/kafka-types.ts";
import { kafkaGroupId, MONITORED_GROUPS, type GroupReport } from "../../services/shared/monitoring/lag-report.ts";
import { describeWithKafkaTool, type ToolPartitionRow } from "../support/kafka-consumer-groups-tool.ts";
import {
  fetchLagReport,
  monitorKafka,
  produce,
  provisionTestTopics,
  removeTestTopics,
  startDrainingConsumer,
  uniqueTopicPrefix,
  waitForReport,
} from "../support/monitor-test-kit.ts";

const PARTITIONS = 3;
const TOKEN = "monitor-test-token";

function asToolRows(group: GroupReport): ToolPartitionRow[] {
  return group.partitions.map((entry) => ({
    group: group.groupId,
    topic: entry.topic,
    partition: entry.partition,
    currentOffset: entry.committedOffset,
    logEndOffset: entry.logEndOffset,
    lag: entry.lag,
    consumerId: entry.owner?.memberId ?? null,
    host: entry.owner?.host ?? null,
    clientId: entry.owner?.clientId ?? null,
  }));
}

const byPosition = (a: ToolPartitionRow, b: ToolPartitionRow): number =>
  a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic) || a.partition - b.partition;

/** Commits offsets for a group with no members (as a stopped consumer leaves them): half of each partition. */
async function commitHalf(kafka: Kafka, config: AppConfig, groupId: string, logical: string): Promise<void> {
  const topic = topicName(config, logical);
  await withAdmin(kafka, async (admin) => {
    const offsets = await fetchTopicOffsets(admin, topic);
    await admin.setOffsets({ groupId, topic, partitions: offsets.map(({ partition, high }) => ({ partition, offset: String(Math.floor(high / 2)) })) });
  });
}

describe("GET /monitor/lag", () => {
  let config: AppConfig;
  let prisma: PrismaClient;
  let app: FastifyInstance;
  let kafka: Kafka;
  let payment: Consumer | undefined;
  const groupId = (group: string): string => kafkaGroupId(config, group);

  beforeAll(async () => {
    config = testConfig({ TOPIC_PREFIX: uniqueTopicPrefix("lag"), MONITOR_TOKEN: TOKEN });
    prisma = testPrisma();
    await prepareTestDatabase(prisma);
    kafka = monitorKafka(config);
    await provisionTestTopics(kafka, config, PARTITIONS);
    await produce(kafka, config, "orders", 40);
    await produce(kafka, config, "inventory", 21);
    await produce(kafka, config, "payments", 9);
    await produce(kafka, config, "dlq.payment", 2);
    // inventory and order-state: stopped consumers that got halfway; payment: a live member, caught up;
    // notification: a group that never ran.
    await commitHalf(kafka, config, groupId("inventory"), "orders");
    await commitHalf(kafka, config, groupId("order-state"), "inventory");
    payment = await startDrainingConsumer(kafka, config, groupId("payment"), ["orders"]);
    app = await testApp({ prisma, config });
  });

  afterAll(async () => {
    await payment?.disconnect();
    await app?.close();
    await removeTestTopics(kafka, config, MONITORED_GROUPS.map(groupId));
    await prisma?.$disconnect();
  });

  it("is refused without the token when MONITOR_TOKEN is set", async () => {
    const response = await app.inject({ method: "GET", url: "/monitor/lag" });
    expect(response.statusCode).toBe(401);
    expect(response.headers["content-type"]).toContain("application/problem+json");
    expect(response.headers["www-authenticate"]).toContain("Bearer");
    const wrong = await app.inject({ method: "GET", url: "/monitor/lag", headers: { authorization: "Bearer nope" } });
    expect(wrong.statusCode).toBe(401);
  });

  it("equals what kafka-consumer-groups --describe reports for every group, partition and owner", async () => {
    // The live member must have consumed and committed everything first, so nothing moves while both look.
    await waitForReport(
      app,
      (report) =>
        report.groups.find((g) => g.group === "payment")?.partitions.length === PARTITIONS && report.groups.find((g) => g.group === "payment")?.totalLag === 0,
      60_000,
      "payment group caught up",
      TOKEN,
    );
    const report = await fetchLagReport(app, TOKEN);
    const tool = await describeWithKafkaTool(config.KAFKA_BROKERS.split(",")[0]!, MONITORED_GROUPS.map(groupId));

    expect(report.errors).toEqual([]);
    const ours = report.groups.flatMap(asToolRows).sort(byPosition);
    expect(ours).toEqual([...tool].sort(byPosition));

    // And the figures are the ones set up above, not two equally wrong readings.
    const inventory = report.groups.find((g) => g.group === "inventory")!;
    expect(inventory.partitions.map((p) => p.topic)).toEqual(Array(PARTITIONS).fill(topicName(config, "orders")));
    expect(inventory.totalLag).toBe(inventory.partitions.reduce((sum, p) => sum + (p.logEndOffset - Math.floor(p.logEndOffset / 2)), 0));
    expect(inventory.partitions.every((p) => p.owner === null)).toBe(true);
    const paymentGroup = report.groups.find((g) => g.group === "payment")!;
    expect(paymentGroup.state).toBe("Stable");
    expect(paymentGroup.partitions.every((p) => p.owner !== null && p.lag === 0)).toBe(true);
    expect(report.groups.find((g) => g.group === "notification")!.partitions).toEqual([]);
    expect(report.totalLag).toBe(report.groups.reduce((sum, g) => sum + g.totalLag, 0));
    expect(report.deadLetters).toContainEqual({ topic: topicName(config, "dlq.payment"), depth: 2 });
    expect(report.deadLetters).toContainEqual({ topic: topicName(config, "dlq.inventory"), depth: 0 });
  });
});
