/**
 * The pipeline on a 3-node KRaft cluster (replication 3, min.insync.replicas 2; the relay produces with acks=all)
 * keeps every order through the kill -9 of the leader of its busiest partition and then of the active controller,
 * under a steady open-loop load; the audit ends it green. The services get nothing but KAFKA_BROKERS: their topics
 * take the cluster's replication from the brokers. Figures go to test-artifacts/chaos/kafka-cluster.json.
 *
 * Each kill: the time until every partition has a live leader again, and until the first orders sent after the
 * kill are all decided ("recovered"); then the node is restarted and the time until it is back in every ISR.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAudit } from "../../scripts/audit/run-audit.ts";
import type { AuditVerdict } from "../../scripts/audit/verdict.ts";
import type { CheckCode } from "../../scripts/audit/audit-checks.ts";
import { topicName } from "../../services/shared/config/load-config.ts";
import { allTopicNames } from "../../services/shared/events/topic-catalogue.ts";
import { describeTopicConfigs, fetchTopicOffsets, withAdmin } from "../../services/shared/kafka/kafka-admin.ts";
import { OpenLoopLoad, TestCluster, waitForPartitions, type LoadFigures } from "../support/kafka-cluster-kit.ts";
import { createProducts } from "../support/order-fixtures.ts";
import { Pipeline, pollUntil } from "../support/pipeline.ts";
import { useIsolatedDatabase } from "../support/stack-test-kit.ts";

/** Steady, and below what the pipeline sustains on a shared 2-core machine: a growing backlog would hide recovery. */
const ORDERS_PER_SECOND = 5;
/** Orders sent after a kill that must all be decided for the pipeline to count as recovered. */
const RECOVERY_PROBE = 10;
const RECOVERY_TIMEOUT_MS = 120_000;
const tag = randomBytes(3).toString("hex").toUpperCase();
const SKU = `CHAOS-CLUSTER-${tag}`;
/** Some customers the provider declines, so cancellations and their compensation run under the faults too. */
const DECLINED_EVERY = 10;

let database: Awaited<ReturnType<typeof useIsolatedDatabase>>;
let cluster: TestCluster;
let pipeline: Pipeline;
let load: OpenLoopLoad | undefined;
/** Filled as the scenario goes, written at the end whatever happened: a failed run shows how far it got. */
const figures: Record<string, unknown> = { scenario: "kafka-cluster: leader kill -9, then active-controller kill -9", ordersPerSecond: ORDERS_PER_SECOND };
/** The database stays for diagnosis unless the scenario passed. */
let passed = false;

beforeAll(async () => {
  database = await useIsolatedDatabase("kafka_cluster");
  const clusterStartedAt = Date.now();
  cluster = await TestCluster.start();
  figures.clusterStartMs = Date.now() - clusterStartedAt;
  const pipelineStartedAt = Date.now();
  // TOPIC_REPLICATION_FACTOR empty = unset: the brokers' default.replication.factor decides, as in production.
  pipeline = await Pipeline.start({
    name: "kafka-cluster",
    // A starved CPU makes PostgreSQL slow to accept connections; the fault under test is Kafka's, not that.
    env: { KAFKA_BROKERS: cluster.brokers, TOPIC_REPLICATION_FACTOR: "", DATABASE_URL: database.url, DATABASE_CONNECT_TIMEOUT_MS: "10000" },
    readyTimeoutMs: 180_000,
  });
  figures.pipelineStartMs = Date.now() - pipelineStartedAt;
  await createProducts(pipeline.prisma, [{ sku: SKU, priceMinor: 1_000, stock: 1_000_000 }]);
});

afterAll(async () => {
  if (load) figures.load ??= await load.stop();
  if (cluster) writeFigures({ ...figures, passed });
  await pipeline?.stop();
  await cluster?.stop();
  if (passed) await database?.drop();
  else if (database) console.info(`kafka-cluster chaos: the database stays for diagnosis: ${database.url}`);
});

interface KillFigures {
  node: number;
  /** Kill -> every partition led by a live node. */
  leadersMovedMs: number;
  /** Kill -> the first orders sent after it are all CONFIRMED or CANCELLED. */
  recoveredMs: number;
  /** Restart -> the node is back in the ISR of every partition. */
  rejoinedMs: number;
}

/** Every order sent from `since` on, up to the probe's size, is decided. */
async function flowRecovered(since: number): Promise<number> {
  await pollUntil(
    async () => {
      const ids = load!.acceptedSince(since, RECOVERY_PROBE);
      if (ids.length < RECOVERY_PROBE) return undefined;
      const decided = await pipeline.prisma.order.count({ where: { id: { in: ids }, status: { not: "PENDING" } } });
      return decided === ids.length ? true : undefined;
    },
    RECOVERY_TIMEOUT_MS,
    `the first ${RECOVERY_PROBE} orders sent after the kill to be decided`,
    250,
  );
  return Date.now() - since;
}

async function killAndRecover(node: number, topics: string[]): Promise<KillFigures> {
  const killedAt = Date.now();
  await cluster.kill(node);
  const leadersMovedMs = await waitForPartitions(
    cluster,
    topics,
    (p) => p.leader >= 0 && p.leader !== node,
    `partitions to leave node ${node}`,
    killedAt,
    RECOVERY_TIMEOUT_MS,
  );
  const recoveredMs = await flowRecovered(killedAt);
  const restartedAt = Date.now();
  await cluster.restart(node);
  const rejoinedMs = await waitForPartitions(
    cluster,
    topics,
    (p) => p.isr.length === p.replicas.length,
    `node ${node} back in every ISR`,
    restartedAt,
    RECOVERY_TIMEOUT_MS,
  );
  return { node, leadersMovedMs, recoveredMs, rejoinedMs };
}

/** Polls DescribeQuorum until a node other than `controller` leads the quorum; the milliseconds from `since`. */
async function newControllerAfter(controller: number, since: number): Promise<number> {
  await pollUntil(
    async () => ((await cluster.quorumLeader()) !== controller ? true : undefined),
    RECOVERY_TIMEOUT_MS,
    `a new active controller after killing node ${controller}`,
    250,
  );
  return Date.now() - since;
}

const count = (verdict: AuditVerdict, codes: CheckCode[]): number => verdict.checks.filter((c) => codes.includes(c.code)).reduce((sum, c) => sum + c.count, 0);

function writeFigures(figures: unknown): void {
  const dir = path.join(cluster.ctx.paths.repo, "test-artifacts", "chaos");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "kafka-cluster.json"), `${JSON.stringify(figures, null, 2)}\n`);
}

describe("3-node KRaft cluster", () => {
  it("gives the services' topics replication 3 and min.insync.replicas 2 with only KAFKA_BROKERS changed", async () => {
    const topics = allTopicNames(pipeline.config);
    const partitions = await cluster.partitions(topics);
    expect(partitions.length).toBe(topics.length * pipeline.config.TOPIC_PARTITIONS);
    expect(partitions.filter((p) => p.replicas.length !== 3)).toEqual([]);
    const configs = await withAdmin(pipeline.kafka, (admin) => describeTopicConfigs(admin, topicName(pipeline.config, "orders"), ["min.insync.replicas"]));
    expect(configs).toEqual({ "min.insync.replicas": "2" });
  });

  it("loses no order when the busiest partition's leader, then the active controller, is killed under load", async () => {
    const topics = allTopicNames(pipeline.config);
    const ordersTopic = topicName(pipeline.config, "orders");
    load = new OpenLoopLoad(async (i) => {
      const customerId = i % DECLINED_EVERY === 0 ? `decline-chaos-${tag}-${i}` : `chaos-${tag}-${i}`;
      const response = await pipeline.request("POST", "/orders", {
        body: { currency: "EUR", customerId, items: [{ sku: SKU, quantity: 1 }] },
        timeoutMs: 15_000,
      });
      if (response.status !== 201) {
        await response.body?.cancel();
        return { status: response.status };
      }
      return { orderId: ((await response.json()) as { orderId: string }).orderId };
    }, ORDERS_PER_SECOND);
    const loadStartedAt = Date.now();
    load.start();
    await flowRecovered(loadStartedAt); // warmed up: orders flow end to end

    // The busiest partition of the orders topic, led by a node that is not the active controller: the second kill
    // is then a different fault (a controller failover) than the first (a partition leader failover).
    const controllerBefore = await cluster.quorumLeader();
    const offsets = await withAdmin(pipeline.kafka, (admin) => fetchTopicOffsets(admin, ordersTopic));
    const leaders = new Map((await cluster.partitions([ordersTopic])).map((p) => [p.partition, p.leader]));
    const busiest = [...offsets].sort((a, b) => b.high - a.high);
    const target = busiest.find((p) => leaders.get(p.partition) !== controllerBefore) ?? busiest[0]!;
    const leader = leaders.get(target.partition)!;
    const partition = `${ordersTopic}/${target.partition}`;
    figures.leaderKill = { node: leader, partition };
    figures.leaderKill = { partition, ...(await killAndRecover(leader, topics)) };

    const controller = await cluster.quorumLeader();
    figures.controllerKill = { node: controller };
    const controllerKilledAt = Date.now();
    const [recovery, newControllerReportedMs] = await Promise.all([killAndRecover(controller, topics), newControllerAfter(controller, controllerKilledAt)]);
    figures.controllerKill = { ...recovery, newControllerReportedMs };

    figures.brokerResidentMb = cluster.residentMb();
    const loadFigures: LoadFigures = await load.stop();
    figures.load = loadFigures;
    figures.loadSeconds = (Date.now() - loadStartedAt) / 1000;
    const ids = load.acceptedOrders.map((o) => o.id);
    await pollUntil(
      async () => ((await pipeline.prisma.order.count({ where: { id: { in: ids }, status: { not: "PENDING" } } })) === ids.length ? true : undefined),
      RECOVERY_TIMEOUT_MS,
      "every accepted order to be decided",
      500,
    );
    // Notifications and compensation follow the decision: wait until each order has its receipt and its outcome.
    await pollUntil(
      async () => ((await pipeline.prisma.notification.count({ where: { orderId: { in: ids } } })) >= 2 * ids.length ? true : undefined),
      RECOVERY_TIMEOUT_MS,
      "every order's receipt and outcome notification",
      500,
    );

    const verdict = await runAudit({
      databaseUrl: database.url,
      kafkaBrokers: cluster.brokers,
      topicPrefix: pipeline.config.TOPIC_PREFIX,
      since: new Date(0), // the database is this file's own
      stuckAfterSeconds: 60,
      outboxRetentionHours: 72,
      inboxRetentionHours: pipeline.config.INBOX_RETENTION_HOURS,
      limit: 20,
      kafka: true,
      kafkaTimeoutMs: 60_000,
      statementTimeoutMs: 60_000,
    });
    const decided = await pipeline.prisma.order.count({ where: { id: { in: ids }, status: { not: "PENDING" } } });
    Object.assign(figures, {
      offered: loadFigures.offered,
      accepted: loadFigures.accepted,
      lost: ids.length - decided,
      duplicateEffects: count(verdict, [
        "EVENT_DUPLICATED",
        "NOTIFICATION_DUPLICATED",
        "RESERVATION_MISMATCH",
        "STOCK_RESERVED_MISMATCH",
        "STOCK_NOT_CONSERVED",
      ]),
      orderViolations: count(verdict, ["EVENT_OUT_OF_ORDER", "KEY_SPLIT_ACROSS_PARTITIONS"]),
      duplicateRecordsOnTopics: verdict.kafka.duplicateRecords,
      audit: {
        ok: verdict.ok,
        violations: verdict.violations,
        notices: Object.fromEntries(verdict.checks.filter((c) => c.severity === "notice" && c.count > 0).map((c) => [c.code, c.count])),
        orders: verdict.scope.orders,
        byStatus: verdict.scope.byStatus,
        failing: verdict.checks.filter((c) => c.severity === "violation" && c.count > 0),
      },
    });
    console.info(`kafka-cluster chaos: ${JSON.stringify(figures)}`);

    expect(loadFigures.accepted).toBeGreaterThan(0);
    expect(figures.lost).toBe(0);
    expect(verdict.checks.filter((c) => c.severity === "violation" && c.count > 0)).toEqual([]);
    expect(verdict.ok).toBe(true);
    // A request that timed out may still have placed its order: the audit covers those too.
    expect(verdict.scope.orders).toBeGreaterThanOrEqual(ids.length);
    passed = true;
  });
});
