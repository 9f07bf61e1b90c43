/**
 * `npm run bench:audit [-- --orders 100000]`: how long the audit takes on a large, consistent history. Builds it
 * set-based in a database of its own (orders 90 % confirmed, 10 % cancelled by a declined payment, with every
 * effect, outbox row, inbox row and notification), publishes its outbox to topics of its own, commits every
 * group at the end, runs the audit once and prints the figures; bench-results/audit.json gets them too. The
 * database and topics are dropped afterwards (--keep leaves them, to audit them by hand).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { loadConfig } from "../../services/shared/config/load-config.ts";
import { deleteTopics, ensureTopics, withAdmin } from "../../services/shared/kafka/kafka-admin.ts";
import { createKafka, createProducer, parseBrokers } from "../../services/shared/kafka/kafka-client.ts";
import type { Kafka } from "../../services/shared/kafka/kafka-types.ts";
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER } from "../../services/shared/events/event-headers.ts";
import { applyMigrations } from "../db/migrate.ts";
import { dbPaths } from "../db/db-paths.ts";
import { CONSUMER_EXPECTATIONS } from "./kafka-reconcile.ts";
import { runAudit } from "./run-audit.ts";
import { commitEveryGroupAtEnd, deleteDatasetGroups } from "../../test/support/audit/audit-dataset.ts";

const HISTORY = [
  "INSERT INTO products (sku, name, price_minor, currency) SELECT 'BENCH-' || g, 'Bench ' || g, 1000, 'EUR' FROM generate_series(0, 19) g",
  "INSERT INTO stock (sku, available) SELECT 'BENCH-' || g, 10000000 FROM generate_series(0, 19) g",
  "CREATE TEMP TABLE plan AS SELECT gen_random_uuid() AS id, g, (g % 10 = 0) AS cancelled, 'BENCH-' || (g % 20) AS sku FROM generate_series(1, $1::int) g",
  `INSERT INTO orders (id, customer_id, status, currency, total_minor, created_at, updated_at)
     SELECT id, 'bench-' || g, (CASE WHEN cancelled THEN 'CANCELLED' ELSE 'CONFIRMED' END)::order_status, 'EUR', 1000, now() - interval '1 hour', now() - interval '1 hour' FROM plan`,
  "INSERT INTO order_items (order_id, sku, quantity, unit_price_minor, line_total_minor) SELECT id, sku, 1, 1000, 1000 FROM plan",
  `INSERT INTO order_status_history (order_id, status, reason, at)
     SELECT id, 'PENDING', 'accepted', now() - interval '1 hour' FROM plan
     UNION ALL SELECT id, (CASE WHEN cancelled THEN 'CANCELLED' ELSE 'CONFIRMED' END)::order_status, NULL, now() - interval '1 hour' FROM plan`,
  "INSERT INTO order_outcomes (order_id, stock_status, payment_status) SELECT id, 'RESERVED', CASE WHEN cancelled THEN 'DECLINED' ELSE 'AUTHORIZED' END FROM plan",
  "INSERT INTO stock_reservations (order_id, sku, quantity, status) SELECT id, sku, 1, (CASE WHEN cancelled THEN 'RELEASED' ELSE 'COMMITTED' END)::reservation_status FROM plan",
  "UPDATE stock s SET available = s.available - c.n FROM (SELECT sku, count(*)::int AS n FROM plan WHERE NOT cancelled GROUP BY sku) c WHERE c.sku = s.sku",
  `INSERT INTO payments (order_id, idempotency_key, provider_payment_id, amount_minor, currency, status)
     SELECT id, 'authorize:' || id, 'sim_' || id, 1000, 'EUR', (CASE WHEN cancelled THEN 'DECLINED' ELSE 'AUTHORIZED' END)::payment_status FROM plan`,
  `INSERT INTO provider_ledger (idempotency_key, operation, request_hash, provider_payment_id, outcome, amount_minor, currency)
     SELECT 'authorize:' || id, 'authorize', repeat('0', 64), 'sim_' || id, CASE WHEN cancelled THEN 'declined' ELSE 'authorized' END, 1000, 'EUR' FROM plan`,
  `CREATE TEMP TABLE ev AS
     SELECT p.id AS order_id, e.seq, e.type, e.topic, gen_random_uuid() AS event_id FROM plan p
      CROSS JOIN LATERAL (VALUES (1, 'OrderPlaced', 'orders'), (2, 'StockReserved', 'inventory'),
        (3, CASE WHEN p.cancelled THEN 'PaymentDeclined' ELSE 'PaymentAuthorized' END, 'payments'),
        (4, CASE WHEN p.cancelled THEN 'OrderCancelled' ELSE 'OrderConfirmed' END, 'orders')) AS e(seq, type, topic)
     UNION ALL SELECT id, 5, 'StockReleased', 'inventory', gen_random_uuid() FROM plan WHERE cancelled`,
  `INSERT INTO outbox (topic, key, event_type, event_id, payload, created_at, published_at, attempts)
     SELECT topic, order_id::text, type, event_id, '{}', now() - interval '1 hour', now() - interval '1 hour', 1 FROM ev ORDER BY seq, order_id`,
  `INSERT INTO notifications (order_id, event_id, kind, channel, recipient, idempotency_key, status, attempts, sent_at)
     SELECT order_id, event_id, CASE type WHEN 'OrderPlaced' THEN 'RECEIPT' WHEN 'OrderConfirmed' THEN 'CONFIRMED' ELSE 'CANCELLED' END,
            'log', 'bench', 'notify:' || event_id || ':log', 'SENT', 1, now()
       FROM ev WHERE type IN ('OrderPlaced', 'OrderConfirmed', 'OrderCancelled')`,
];

async function buildHistory(db: pg.Client, orders: number): Promise<void> {
  for (const statement of HISTORY) await db.query(statement, statement.includes("$1") ? [orders] : []);
  for (const consumer of CONSUMER_EXPECTATIONS) {
    await db.query("INSERT INTO inbox (consumer_group, event_id) SELECT $1, event_id FROM ev WHERE type = ANY($2::text[])", [
      consumer.group,
      [...consumer.handles],
    ]);
  }
  await db.query("ANALYZE");
}

async function publishOutbox(db: pg.Client, kafka: Kafka, prefix: string): Promise<number> {
  const topics = ["orders", "inventory", "payments"].map((logical) => `${prefix}${logical}`);
  await withAdmin(kafka, (admin) =>
    ensureTopics(
      admin,
      topics.map((topic) => ({ topic, numPartitions: 6, replicationFactor: 1 })),
    ),
  );
  const producer = createProducer(kafka);
  await producer.connect();
  let sent = 0;
  try {
    for (let after = 0n; ;) {
      const { rows } = await db.query<{ id: string; topic: string; key: string; event_type: string; event_id: string }>(
        "SELECT x.id::text AS id, x.topic, x.key, x.event_type, x.event_id::text AS event_id FROM outbox x WHERE x.id > $1 ORDER BY x.id LIMIT 20000",
        [after.toString()],
      );
      if (rows.length === 0) break;
      const byTopic = new Map<string, Array<{ key: string; value: Buffer; headers: Record<string, string> }>>();
      for (const row of rows) {
        const list = byTopic.get(row.topic) ?? [];
        list.push({ key: row.key, value: Buffer.from("{}"), headers: { [EVENT_TYPE_HEADER]: row.event_type, [EVENT_ID_HEADER]: row.event_id } });
        byTopic.set(row.topic, list);
      }
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic: `${prefix}${topic}`, messages })) });
      sent += rows.length;
      after = BigInt(rows[rows.length - 1]?.id ?? "0");
      process.stderr.write(`\r  published ${sent} records`);
    }
  } finally {
    process.stderr.write("\n");
    await producer.disconnect();
  }
  await commitEveryGroupAtEnd(kafka, prefix);
  return sent;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { orders: { type: "string", default: "100000" }, keep: { type: "boolean", default: false } } });
  const orders = Number(values.orders);
  const config = loadConfig();
  const tag = Date.now().toString(36);
  const database = `orderflow_audit_bench_${tag}`;
  const prefix = `bench.audit-${tag}.`;
  const url = new URL(config.DATABASE_URL);
  const server = new pg.Client({ connectionString: config.DATABASE_URL });
  await server.connect();
  await server.query(`CREATE DATABASE "${database}"`);
  url.pathname = `/${database}`;
  const kafka = createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: "audit-bench", logLevel: "nothing" });
  try {
    await applyMigrations(url.toString(), { log: () => undefined });
    const db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    const buildStarted = Date.now();
    await buildHistory(db, orders);
    const built = Date.now();
    const records = await publishOutbox(db, kafka, prefix);
    await db.end();
    process.stderr.write(
      `  history of ${orders} orders built in ${((built - buildStarted) / 1000).toFixed(1)} s, ${records} records published in ${((Date.now() - built) / 1000).toFixed(1)} s\n`,
    );
    const verdict = await runAudit({
      databaseUrl: url.toString(),
      kafkaBrokers: config.KAFKA_BROKERS,
      topicPrefix: prefix,
      since: new Date(0),
      stuckAfterSeconds: 60,
      outboxRetentionHours: config.OUTBOX_RETENTION_HOURS,
      inboxRetentionHours: config.INBOX_RETENTION_HOURS,
      limit: 20,
      kafka: true,
      kafkaTimeoutMs: 600_000,
      statementTimeoutMs: 600_000,
    });
    const result = {
      orders,
      records,
      auditSeconds: verdict.durationMs / 1000,
      kafkaReadSeconds: verdict.kafka.elapsedMs / 1000,
      ok: verdict.ok,
      violations: verdict.violations,
      rssMb: Math.round(process.memoryUsage().rss / 1e6),
      at: new Date().toISOString(),
    };
    process.stdout.write(
      `audit of ${orders} orders / ${records} records: ${result.auditSeconds.toFixed(1)} s (topics read in ${result.kafkaReadSeconds.toFixed(1)} s), verdict ${verdict.ok ? "OK" : `FAILED (${verdict.violations})`}, RSS ${result.rssMb} MB\n`,
    );
    const out = path.join(dbPaths.repo, "bench-results");
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, "audit.json"), `${JSON.stringify(result, null, 2)}\n`);
    if (!verdict.ok) process.exitCode = 1;
  } finally {
    if (values.keep) {
      process.stderr.write(`  kept database ${database} and topic prefix ${prefix}\n`);
      await server.end();
      return;
    }
    await server.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
    await server.end();
    await withAdmin(kafka, (admin) =>
      deleteTopics(
        admin,
        ["orders", "inventory", "payments"].map((t) => `${prefix}${t}`),
      ),
    ).catch(() => undefined);
    await deleteDatasetGroups(kafka, prefix).catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:audit failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
