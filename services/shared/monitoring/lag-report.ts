import type { AppConfig } from "../config/config-schema.ts";
import { topicName } from "../config/load-config.ts";
import type { PrismaClient } from "../db/index.ts";
import { CONSUMER_GROUPS, DLQ_TOPICS } from "../events/topic-catalogue.ts";
import { describeGroupLag, topicDepth, type GroupLag } from "../kafka/consumer-group-lag.ts";
import { withAdmin, type AdminSession } from "../kafka/kafka-admin.ts";
import type { Admin, Kafka } from "../kafka/kafka-types.ts";
import { readOutboxBacklog, readStuckOrders, type OutboxBacklog, type StuckOrders } from "./database-backlog.ts";
import { withTimeout } from "../resilience/with-timeout.ts";
import { MonitorTimeoutError } from "./monitor-timeout-error.ts";

/** The pipeline's consumer groups (the topic catalogue's); each has a dead-letter topic dlq.<group>. */
export const MONITORED_GROUPS = CONSUMER_GROUPS;

/** Kafka group id of a logical group: TOPIC_PREFIX applies, so a test run never joins the dev consumers' groups. */
export function kafkaGroupId(config: Pick<AppConfig, "TOPIC_PREFIX">, group: string): string {
  return topicName(config, group);
}

export interface GroupReport extends GroupLag {
  /** Logical name ("inventory"); groupId is the Kafka group id. */
  group: string;
}

export interface LagReport {
  generatedAt: string;
  groups: GroupReport[];
  /** Sum of every group's lag. */
  totalLag: number;
  outbox: OutboxBacklog;
  deadLetters: Array<{ topic: string; depth: number }>;
  stuckOrders: StuckOrders;
  /** Sources that could not be read (the rest of the report is still true); empty when all answered. */
  errors: Array<{ source: "kafka" | "database"; message: string }>;
}

export interface LagReportOptions {
  kafka: Kafka;
  prisma: PrismaClient;
  config: Pick<AppConfig, "TOPIC_PREFIX" | "MONITOR_STUCK_AFTER_SECONDS">;
  /** A kept admin connection (a caller reporting every few seconds); a fresh one per report by default. */
  admin?: AdminSession;
  /** Bound on each source; a report must come back even when Kafka hangs. */
  timeoutMs?: number;
  stuckLimit?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readKafka(options: LagReportOptions): Promise<Pick<LagReport, "groups" | "deadLetters">> {
  const run = options.admin ? options.admin.use.bind(options.admin) : <T>(work: (admin: Admin) => Promise<T>) => withAdmin(options.kafka, work);
  return run(async (admin) => {
    const groups: GroupReport[] = [];
    for (const group of MONITORED_GROUPS) groups.push({ group, ...(await describeGroupLag(admin, kafkaGroupId(options.config, group))) });
    const deadLetters = [];
    for (const logical of DLQ_TOPICS) {
      const topic = topicName(options.config, logical);
      deadLetters.push({ topic, depth: await topicDepth(admin, topic) });
    }
    return { groups, deadLetters };
  });
}

async function readDatabase(options: LagReportOptions): Promise<Pick<LagReport, "outbox" | "stuckOrders">> {
  const [outbox, stuckOrders] = await Promise.all([
    readOutboxBacklog(options.prisma),
    readStuckOrders(options.prisma, options.config.MONITOR_STUCK_AFTER_SECONDS, options.stuckLimit ?? 50),
  ]);
  return { outbox, stuckOrders };
}

/**
 * Where every part of the pipeline stands: consumer lag per group/topic/partition (as Kafka's consumer-groups tool
 * computes it), outbox backlog, dead-letter depth, orders stuck in PENDING. Kafka and PostgreSQL are read in
 * parallel, each bounded; a source that fails is reported in `errors` instead of failing the whole report.
 */
export async function buildLagReport(options: LagReportOptions): Promise<LagReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const [kafka, database] = await Promise.allSettled([
    withTimeout(readKafka(options), timeoutMs, () => new MonitorTimeoutError("kafka", timeoutMs)),
    withTimeout(readDatabase(options), timeoutMs, () => new MonitorTimeoutError("database", timeoutMs)),
  ]);
  const errors: LagReport["errors"] = [];
  if (kafka.status === "rejected") errors.push({ source: "kafka", message: errorMessage(kafka.reason) });
  if (database.status === "rejected") errors.push({ source: "database", message: errorMessage(database.reason) });
  const groups = kafka.status === "fulfilled" ? kafka.value.groups : [];
  return {
    generatedAt: new Date().toISOString(),
    groups,
    totalLag: groups.reduce((sum, group) => sum + group.totalLag, 0),
    outbox: database.status === "fulfilled" ? database.value.outbox : { unpublishedRows: 0, oldestAgeSeconds: 0, failedRows: 0 },
    deadLetters: kafka.status === "fulfilled" ? kafka.value.deadLetters : [],
    stuckOrders:
      database.status === "fulfilled" ? database.value.stuckOrders : { thresholdSeconds: options.config.MONITOR_STUCK_AFTER_SECONDS, count: 0, oldest: [] },
    errors,
  };
}
