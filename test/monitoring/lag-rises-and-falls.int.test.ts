import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assembleRelay } from "../../services/outbox-relay/relay-setup.ts";
import { orderBody, prepareTestDatabase, testApp, testConfig, testPrisma } from "../support/order-api/order-api-harness.ts";
import type { AppConfig } from "../../services/shared/config/config-schema.ts";
import type { PrismaClient } from "../../services/shared/db/index.ts";
import type { Consumer, Kafka } from "../../services/shared/kafka/kafka-types.ts";
import { createLogger } from "../../services/shared/logging/create-logger.ts";
import { kafkaGroupId, MONITORED_GROUPS } from "../../services/shared/monitoring/lag-report.ts";
import {
  monitorKafka,
  produce,
  provisionTestTopics,
  removeTestTopics,
  startDrainingConsumer,
  uniqueTopicPrefix,
  waitForReport,
} from "../support/monitor-test-kit.ts";

const LOAD = 60;
const ORDERS = 25;

describe("lag and backlog follow the pipeline", () => {
  let config: AppConfig;
  let prisma: PrismaClient;
  let app: FastifyInstance;
  let kafka: Kafka;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    config = testConfig({ TOPIC_PREFIX: uniqueTopicPrefix("rise"), RELAY_POLL_INTERVAL_MS: "20", TOPIC_PARTITIONS: "3" });
    prisma = testPrisma();
    await prepareTestDatabase(prisma);
    kafka = monitorKafka(config);
    await provisionTestTopics(kafka, config, 3);
    app = await testApp({ prisma, config });
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await app?.close();
    await removeTestTopics(
      kafka,
      config,
      MONITORED_GROUPS.map((group) => kafkaGroupId(config, group)),
    );
    await prisma?.$disconnect();
  });

  it("consumer lag rises while the group is stopped under load and falls to 0 when it resumes", async () => {
    const groupId = kafkaGroupId(config, "notification");
    const notification = (report: Awaited<ReturnType<typeof waitForReport>>) => report.groups.find((group) => group.group === "notification")!;
    consumer = await startDrainingConsumer(kafka, config, groupId, ["orders"]);
    // Every partition gets records (and so a committed offset): Kafka knows an Empty group's partitions only by them.
    await produce(kafka, config, "orders", 6, 3);
    // Caught up means the 6 records are committed, not just "no lag": a partition without a committed offset has
    // lag null (as in Kafka's own tool), so an assigned-but-idle member would already show totalLag 0.
    const committed = (r: Awaited<ReturnType<typeof waitForReport>>) => notification(r).partitions.reduce((sum, p) => sum + Number(p.committedOffset ?? 0), 0);
    await waitForReport(
      app,
      (r) => notification(r).partitions.length === 3 && committed(r) === 6 && notification(r).totalLag === 0,
      60_000,
      "the group to join and commit all 6",
    );

    await consumer.disconnect(); // stopped
    consumer = undefined;
    for (let burst = 0; burst < 6; burst += 1) await produce(kafka, config, "orders", LOAD / 6);
    const risen = await waitForReport(app, (r) => notification(r).totalLag === LOAD, 30_000, `lag of ${LOAD}`);
    expect(notification(risen).state).toBe("Empty");
    expect(notification(risen).partitions.every((p) => p.owner === null)).toBe(true);

    consumer = await startDrainingConsumer(kafka, config, groupId, ["orders"]);
    const fallen = await waitForReport(app, (r) => notification(r).totalLag === 0, 60_000, "lag back to 0");
    expect(notification(fallen).partitions.every((p) => p.owner !== null && p.committedOffset === p.logEndOffset)).toBe(true);
  });

  it("outbox backlog rises while the relay is stopped and falls to 0 when it runs", async () => {
    const logger = createLogger({ service: "relay-under-test", level: "silent" });
    // Rows older tests left unpublished would be published by this relay too; start from an empty backlog.
    const drain = await assembleRelay(config, logger);
    await drain.relay.start();
    await waitForReport(app, (r) => r.outbox.unpublishedRows === 0, 60_000, "an empty backlog to start from");
    await drain.relay.stop();

    for (let i = 0; i < ORDERS; i += 1) expect((await app.inject({ method: "POST", url: "/orders", payload: orderBody() })).statusCode).toBe(201);
    const risen = await waitForReport(app, (r) => r.outbox.unpublishedRows >= ORDERS, 10_000, `backlog of ${ORDERS}`);
    expect(risen.outbox.oldestAgeSeconds).toBeGreaterThan(0);

    const { relay } = await assembleRelay(config, logger);
    await relay.start();
    try {
      const fallen = await waitForReport(app, (r) => r.outbox.unpublishedRows === 0, 60_000, "backlog back to 0");
      expect(fallen.outbox.oldestAgeSeconds).toBe(0);
    } finally {
      await relay.stop();
    }
  });
});
