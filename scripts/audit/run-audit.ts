/**
 * One audit run: the order in which the sources are read is what makes a live system auditable without false
 * alarms.
 * 1. Committed offsets of every consumer group, first: an inbox row is committed before its offset, so every event
 *    below these offsets has its inbox row in any database snapshot taken afterwards.
 * 2. The database snapshot (REPEATABLE READ READ ONLY); every SQL check runs in it.
 * 3. End offsets of the topics, after the snapshot: a row the snapshot shows as published was acked by Kafka
 *    before, so its record lies below them.
 * 4. The topics, read to those end offsets; inbox look-ups and the outbox stream use the same snapshot.
 */
import pg from "pg";
import { topicName } from "../../services/shared/config/load-config.ts";
import { describeDatabaseUrl } from "../../services/shared/db/database-errors.ts";
import { DLQ_TOPICS, EVENT_TOPIC_NAMES } from "../../services/shared/events/topic-catalogue.ts";
import { fetchGroupOffsets, fetchTopicOffsets, type PartitionOffsets } from "../../services/shared/kafka/kafka-admin.ts";
import { createKafka, parseBrokers } from "../../services/shared/kafka/kafka-client.ts";
import type { Admin, Kafka } from "../../services/shared/kafka/kafka-types.ts";
import { CHECK_CODES, CHECKS, type CheckCode } from "./audit-checks.ts";
import * as sql from "./audit-sql.ts";
import { CONSUMER_EXPECTATIONS, KafkaReconciler } from "./kafka-reconcile.ts";
import { readTopicsToEnd } from "./topic-reader.ts";
import { FindingSink, tally, type AuditVerdict, type KafkaSummary } from "./verdict.ts";

export interface AuditOptions {
  databaseUrl: string;
  kafkaBrokers: string;
  topicPrefix: string;
  since: Date;
  stuckAfterSeconds: number;
  outboxRetentionHours: number;
  /** INBOX_RETENTION_HOURS: inbox rows older than this may have been purged, so older events are not looked up. */
  inboxRetentionHours: number;
  /** Examples kept per check. */
  limit: number;
  /** False: database checks only. */
  kafka: boolean;
  kafkaTimeoutMs: number;
  statementTimeoutMs: number;
}

/**
 * Records produced at or after this instant still have their inbox rows: a row is purged once its processed_at is
 * older than the retention, and an event is processed after it is produced. One minute of margin for the relay's
 * and the database's clocks.
 */
export function inboxKeptSince(snapshotAt: Date, retentionHours: number): number {
  return snapshotAt.getTime() - retentionHours * 3_600_000 + 60_000;
}

type Committed = Array<{ group: string; groupId: string; offsets: Awaited<ReturnType<typeof fetchGroupOffsets>> }>;

async function committedOffsets(admin: Admin, prefix: string, existing: ReadonlySet<string>): Promise<Committed> {
  const result: Committed = [];
  for (const consumer of CONSUMER_EXPECTATIONS) {
    const groupId = `${prefix}${consumer.group}`;
    const topics = consumer.topics.map((topic) => `${prefix}${topic}`).filter((topic) => existing.has(topic));
    result.push({ group: consumer.group, groupId, offsets: topics.length > 0 ? await fetchGroupOffsets(admin, groupId, topics) : [] });
  }
  return result;
}

async function endOffsets(admin: Admin, topics: readonly string[]): Promise<Map<string, PartitionOffsets[]>> {
  const ends = new Map<string, PartitionOffsets[]>();
  for (const topic of topics) ends.set(topic, await fetchTopicOffsets(admin, topic));
  return ends;
}

const KAFKA_CODES = CHECK_CODES.filter((code) => CHECKS[code].window === "kafka" && code !== "KAFKA_READ_INCOMPLETE");

interface KafkaPass {
  summary: KafkaSummary;
  notRun: Set<CheckCode>;
  publishedRowsChecked: number;
}

/** Steps 1, 3 and 4 around the SQL checks (`inSnapshot`), which run between the offsets and the end offsets. */
async function withKafkaPass(kafka: Kafka, options: AuditOptions, client: pg.Client, sink: FindingSink, inSnapshot: () => Promise<Date>): Promise<KafkaPass> {
  const prefix = options.topicPrefix;
  const topics = [...EVENT_TOPIC_NAMES, ...DLQ_TOPICS].map((logical) => topicName({ TOPIC_PREFIX: prefix }, logical));
  const reconciler = new KafkaReconciler(prefix, sink, client);
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<string, PartitionOffsets[]>;
  let committed: Committed;
  try {
    const existing = new Set((await admin.listTopics()).filter((topic) => topics.includes(topic)));
    committed = await committedOffsets(admin, prefix, existing);
    reconciler.keepInboxSince(inboxKeptSince(await inSnapshot(), options.inboxRetentionHours));
    ends = await endOffsets(admin, [...existing]);
  } finally {
    await admin.disconnect();
  }
  const groups = committed.map(({ group, groupId, offsets }) => ({ group, groupId, committedPartitions: reconciler.setCommitted(group, offsets) }));
  const read = await readTopicsToEnd(kafka, {
    ends,
    onRecord: (record) => reconciler.onRecord(record),
    afterBatch: () => reconciler.flush(),
    timeoutMs: options.kafkaTimeoutMs,
    groupPrefix: prefix,
  });
  const notRun = new Set<CheckCode>();
  let checkedRows = 0;
  if (read.complete) {
    await reconciler.finishConsumers();
    for await (const rows of sql.publishedOutboxRows(client, options.since)) checkedRows += reconciler.checkPublished(rows);
  } else {
    for (const code of KAFKA_CODES) notRun.add(code);
    sink.add("KAFKA_READ_INCOMPLETE", read.unfinished.slice(0, 10).join(", "), {
      timeoutMs: options.kafkaTimeoutMs,
      unfinishedPartitions: read.unfinished.length,
      recordsRead: read.records,
    });
  }
  return {
    notRun,
    publishedRowsChecked: checkedRows,
    summary: {
      read: true,
      complete: read.complete,
      topics: [...ends.keys()],
      partitions: read.partitions,
      records: read.records,
      duplicateRecords: reconciler.duplicateRecords,
      beyondInboxRetention: reconciler.beyondInboxRetention,
      elapsedMs: read.elapsedMs,
      groups,
    },
  };
}

async function sqlChecks(client: pg.Client, options: AuditOptions, sink: FindingSink): Promise<void> {
  const params: sql.ScopeParams = {
    since: options.since,
    stuckAfterSeconds: options.stuckAfterSeconds,
    outboxRetentionHours: options.outboxRetentionHours,
    limit: options.limit,
  };
  sink.addRows(await sql.orderFindings(client, params));
  sink.addRows(await sql.stockFindings(client, params));
  sink.addRows(await sql.outboxFindings(client, params));
}

export async function runAudit(options: AuditOptions): Promise<AuditVerdict> {
  const started = new Date();
  const sink = new FindingSink(options.limit);
  const client = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 5_000, application_name: "orderflow-audit" });
  await client.connect();
  const kafka = createKafka({ brokers: parseBrokers(options.kafkaBrokers), clientId: "orderflow-audit", logLevel: "nothing", retries: 3 });
  try {
    let dbNow = new Date();
    const snapshot = async (): Promise<Date> => {
      dbNow = await sql.beginSnapshot(client, options.statementTimeoutMs);
      await sqlChecks(client, options, sink);
      return dbNow;
    };
    let pass: KafkaPass;
    if (options.kafka) {
      pass = await withKafkaPass(kafka, options, client, sink, snapshot);
    } else {
      await snapshot();
      pass = {
        notRun: new Set(KAFKA_CODES),
        publishedRowsChecked: 0,
        summary: {
          read: false,
          complete: false,
          topics: [],
          partitions: 0,
          records: 0,
          duplicateRecords: 0,
          beyondInboxRetention: 0,
          elapsedMs: 0,
          groups: [],
        },
      };
    }
    const params: sql.ScopeParams = {
      since: options.since,
      stuckAfterSeconds: options.stuckAfterSeconds,
      outboxRetentionHours: options.outboxRetentionHours,
      limit: options.limit,
    };
    const scope = await sql.orderScopeSummary(client, params);
    const outbox = await sql.outboxSummary(client, options.since);
    const stock = await sql.stockSummary(client);
    await sql.endSnapshot(client);
    const checks = sink.results(pass.notRun);
    const { violations, notices } = tally(checks);
    const finished = new Date();
    const trailSince = new Date(Math.max(options.since.getTime(), dbNow.getTime() - options.outboxRetentionHours * 3_600_000));
    return {
      ok: violations === 0,
      violations,
      notices,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      environment: { database: describeDatabaseUrl(options.databaseUrl), topicPrefix: options.topicPrefix },
      scope: {
        since: options.since.toISOString(),
        stuckAfterSeconds: options.stuckAfterSeconds,
        orders: scope.orders,
        byStatus: scope.byStatus,
        skus: stock.skus,
      },
      windows: {
        outboxTrailSince: trailSince.toISOString(),
        ordersWithOutboxTrail: scope.withOutboxTrail,
        ordersWithoutOutboxTrail: scope.orders - scope.withOutboxTrail,
        publishedOutboxRowsChecked: pass.publishedRowsChecked,
        inbox: `checked for records produced since ${new Date(inboxKeptSince(dbNow, options.inboxRetentionHours)).toISOString()} (INBOX_RETENTION_HOURS ${options.inboxRetentionHours}); ${pass.summary.beyondInboxRetention} older records not looked up; ${outbox.unpublished} outbox rows unpublished`,
      },
      kafka: pass.summary,
      checks,
    };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Stores the verdict in audit_runs (own connection, after the read-only snapshot). Returns the row id. */
export async function recordAuditVerdict(databaseUrl: string, verdict: AuditVerdict): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000, application_name: "orderflow-audit" });
  await client.connect();
  try {
    return await sql.recordVerdict(client, { startedAt: new Date(verdict.startedAt), ok: verdict.ok, violations: verdict.violations, verdict });
  } finally {
    await client.end().catch(() => undefined);
  }
}
