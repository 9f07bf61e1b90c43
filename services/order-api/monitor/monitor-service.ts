import type { AppConfig } from "../../shared/config/config-schema.ts";
import type { PrismaClient } from "../../shared/db/index.ts";
import { keptAdmin } from "../../shared/kafka/kafka-admin.ts";
import { createKafka, parseBrokers } from "../../shared/kafka/kafka-client.ts";
import type { Kafka } from "../../shared/kafka/kafka-types.ts";
import type { Registry } from "../../shared/metrics/metrics-registry.ts";
import { backlogMetrics } from "../../shared/metrics/orderflow-metrics.ts";
import { buildLagReport, type LagReport } from "../../shared/monitoring/lag-report.ts";
import { readRecentOrders, type RecentOrders } from "./recent-orders.ts";

export type MonitorConfig = Pick<
  AppConfig,
  "KAFKA_BROKERS" | "KAFKA_CLIENT_ID" | "TOPIC_PREFIX" | "MONITOR_STUCK_AFTER_SECONDS" | "MONITOR_TOKEN" | "JAEGER_QUERY_URL"
>;

/** Several browsers and a scraper at once cost one Kafka + DB round per this period. */
const REPORT_CACHE_MS = 1_000;
const RECENT_ORDERS = 20;

export interface MonitorService {
  lagReport(options?: { fresh?: boolean }): Promise<LagReport>;
  recentOrders(): Promise<RecentOrders & { jaegerQueryUrl: string }>;
  /** Copies the latest report into the Prometheus gauges (called before each scrape). */
  refreshGauges(registry: Registry): Promise<void>;
  /** Disconnects the kept Kafka admin client. */
  close?(): Promise<void>;
}

/** The monitor's sources: its own quiet Kafka client (fast fail: 1 retry, short timeouts) and the API's Prisma. */
export function createMonitorService(config: MonitorConfig, prisma: PrismaClient, kafka?: Kafka): MonitorService {
  const client =
    kafka ??
    createKafka({
      brokers: parseBrokers(config.KAFKA_BROKERS),
      clientId: `${config.KAFKA_CLIENT_ID}-monitor`,
      connectionTimeoutMs: 1_500,
      requestTimeoutMs: 3_000,
      retries: 1,
      logLevel: "nothing",
    });
  // The console samples every period: one admin connection for all reports, not one per report.
  const admin = keptAdmin(client);
  let cached: { at: number; report: Promise<LagReport> } | undefined;

  const lagReport = (options: { fresh?: boolean } = {}): Promise<LagReport> => {
    if (options.fresh !== true && cached !== undefined && Date.now() - cached.at < REPORT_CACHE_MS) return cached.report;
    const report = buildLagReport({ kafka: client, admin, prisma, config });
    cached = { at: Date.now(), report };
    report.catch(() => (cached = undefined));
    return report;
  };

  return {
    close: () => admin.close(),
    lagReport,
    recentOrders: async () => ({ ...(await readRecentOrders(prisma, RECENT_ORDERS)), jaegerQueryUrl: config.JAEGER_QUERY_URL }),
    refreshGauges: async (registry) => {
      const report = await lagReport();
      const gauges = backlogMetrics(registry);
      // A source that did not answer keeps its last values: zeros would claim "no lag" exactly during an outage.
      const failed = new Set(report.errors.map((error) => error.source));
      if (!failed.has("kafka")) refreshKafkaGauges(gauges, report);
      if (!failed.has("database")) refreshDatabaseGauges(gauges, report);
    },
  };
}

type BacklogGauges = ReturnType<typeof backlogMetrics>;

function refreshKafkaGauges(gauges: BacklogGauges, report: LagReport): void {
  gauges.consumerLag.reset();
  for (const group of report.groups) {
    for (const entry of group.partitions) {
      if (entry.lag !== null) gauges.consumerLag.set({ consumer_group: group.group, topic: entry.topic, partition: String(entry.partition) }, entry.lag);
    }
  }
  for (const { topic, depth } of report.deadLetters) gauges.deadLetterDepth.set({ topic }, depth);
}

function refreshDatabaseGauges(gauges: BacklogGauges, report: LagReport): void {
  gauges.outboxBacklog.set(report.outbox.unpublishedRows);
  gauges.outboxOldestAge.set(report.outbox.oldestAgeSeconds);
  gauges.outboxFailed.set(report.outbox.failedRows);
  gauges.stuckOrders.set(report.stuckOrders.count);
}
