/**
 * The audit catches what it claims. A consistent dataset (test/support/audit/audit-dataset.ts) in a
 * database of its own, with its events on topics of its own, is green; then each corruption is applied to a copy
 * of that database (CREATE DATABASE ... TEMPLATE) and must be reported with its code. The topics are shared by
 * the copies, so Kafka-side faults are made on the database side of the comparison (an outbox row marked
 * published whose event id is not on the topic, two rows of one key in swapped outbox order).
 */
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "../db/migrate.ts";
import { deleteTopics, withAdmin } from "../../services/shared/kafka/kafka-admin.ts";
import { createKafka, createProducer, parseBrokers } from "../../services/shared/kafka/kafka-client.ts";
import { loadConfig } from "../../services/shared/config/load-config.ts";
import type { CheckCode } from "./audit-checks.ts";
import { lastVerdict } from "./audit-sql.ts";
import { recordAuditVerdict, runAudit, type AuditOptions } from "./run-audit.ts";
import { buildDataset, deleteDatasetGroups, SKU_A, SKU_B, type AuditDataset } from "../../test/support/audit/audit-dataset.ts";
import { formatVerdict, type AuditVerdict } from "./verdict.ts";

const run = promisify(execFile);
const config = loadConfig({ ...process.env, LOG_LEVEL: "silent" });
const tag = randomBytes(3).toString("hex");
const prefix = `test.audit-${tag}.`;
const baseName = `orderflow_audit_${tag}`;
const kafka = createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: "audit-test", logLevel: "nothing" });
const created: string[] = [];
let dataset: AuditDataset;

function urlOf(database: string): string {
  const url = new URL(config.DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withDb<T>(database: string, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: urlOf(database), connectionTimeoutMillis: 5_000 });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

/** Server-level statements (CREATE/DROP DATABASE) from the test database's connection. */
const admin = (sql: string): Promise<unknown> => withDb(new URL(config.DATABASE_URL).pathname.slice(1), (db) => db.query(sql));

async function copyOfBase(): Promise<string> {
  const name = `${baseName}_${created.length}`;
  await admin(`CREATE DATABASE "${name}" TEMPLATE "${baseName}"`);
  created.push(name);
  return name;
}

function options(database: string): AuditOptions {
  return {
    databaseUrl: urlOf(database),
    kafkaBrokers: config.KAFKA_BROKERS,
    topicPrefix: prefix,
    since: new Date(0),
    stuckAfterSeconds: 120,
    outboxRetentionHours: 72,
    inboxRetentionHours: 168,
    limit: 20,
    kafka: true,
    kafkaTimeoutMs: 60_000,
    statementTimeoutMs: 30_000,
  };
}

const violated = (verdict: AuditVerdict): CheckCode[] => verdict.checks.filter((c) => c.severity === "violation" && c.count > 0).map((c) => c.code);
const countOf = (verdict: AuditVerdict, code: CheckCode): number => verdict.checks.find((c) => c.code === code)?.count ?? 0;

/** Every row of every business table, hashed: the audit must not change one. */
async function fingerprint(database: string): Promise<string> {
  return withDb(database, async (db) => {
    const tables = [
      "orders",
      "order_items",
      "order_status_history",
      "outbox",
      "inbox",
      "stock",
      "stock_reservations",
      "stock_received",
      "payments",
      "provider_ledger",
      "notifications",
      "order_outcomes",
      "audit_runs",
    ];
    const parts: string[] = [];
    for (const table of tables) {
      const { rows } = await db.query<{ h: string }>(`SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM ${table} t`);
      parts.push(`${table}:${rows[0]?.h}`);
    }
    return parts.join(",");
  });
}

beforeAll(async () => {
  await admin(`CREATE DATABASE "${baseName}"`);
  created.push(baseName);
  await applyMigrations(urlOf(baseName), { log: () => undefined });
  dataset = await withDb(baseName, (db) => buildDataset(db, kafka, prefix));
});

afterAll(async () => {
  for (const name of created.reverse()) await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
  await withAdmin(kafka, (a) =>
    deleteTopics(
      a,
      ["orders", "inventory", "payments", "dlq.payment"].map((t) => `${prefix}${t}`),
    ),
  ).catch(() => undefined);
  await deleteDatasetGroups(kafka, prefix).catch(() => undefined);
});

describe("npm run audit on a consistent dataset", () => {
  it("is green, lists the in-flight order and the replayed dead letter as notices, and writes nothing", async () => {
    const before = await fingerprint(baseName);
    const verdict = await runAudit(options(baseName));
    process.stdout.write(formatVerdict(verdict));
    expect(violated(verdict)).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.scope.orders).toBe(4);
    expect(countOf(verdict, "ORDER_IN_FLIGHT")).toBe(1);
    expect(verdict.checks.find((c) => c.code === "ORDER_IN_FLIGHT")?.examples[0]?.subject).toBe(dataset.inFlight.id);
    expect(countOf(verdict, "DEAD_LETTER_REPLAYED")).toBe(1);
    expect(verdict.kafka.complete).toBe(true);
    expect(verdict.kafka.records).toBe(17);
    expect(verdict.windows.publishedOutboxRowsChecked).toBe(16);
    expect(verdict.checks.every((c) => c.ran)).toBe(true);
    expect(await fingerprint(baseName)).toBe(before);
  });
});

type Corruption = { name: string; code: CheckCode; corrupt: (db: pg.Client, ds: AuditDataset) => Promise<unknown>; options?: Partial<AuditOptions> };

const eventOf = (order: { events: Map<string, string> }, type: string): string => order.events.get(type) ?? "";

const corruptions: Corruption[] = [
  {
    name: "a missing effect (the confirmation notification)",
    code: "NOTIFICATION_MISSING",
    corrupt: (db, ds) => db.query("DELETE FROM notifications WHERE order_id = $1 AND kind = 'CONFIRMED'", [ds.confirmed.id]),
  },
  {
    name: "a missing compensation (stock of a cancelled order never released)",
    code: "RESERVATION_NOT_RELEASED",
    corrupt: async (db, ds) => {
      await db.query("UPDATE stock_reservations SET status = 'RESERVED' WHERE order_id = $1", [ds.declined.id]);
      await db.query("UPDATE stock SET available = available - 1, reserved = reserved + 1 WHERE sku = $1", [SKU_A]);
    },
  },
  {
    name: "a doubled effect (a second confirmation notification on the same channel)",
    code: "NOTIFICATION_DUPLICATED",
    corrupt: (db, ds) =>
      db.query(
        "INSERT INTO notifications (order_id, event_id, kind, channel, recipient, idempotency_key, status, sent_at) VALUES ($1, $2, 'CONFIRMED', 'log', 'audit', $3, 'SENT', now())",
        [ds.confirmed.id, randomUUID(), `dup-${randomUUID()}`],
      ),
  },
  {
    name: "a doubled effect (stock of an order taken twice)",
    code: "STOCK_RESERVED_MISMATCH",
    corrupt: (db) => db.query("UPDATE stock SET available = available - 3, reserved = reserved + 3 WHERE sku = $1", [SKU_A]),
  },
  {
    name: "a doubled event (StockReserved emitted twice)",
    code: "EVENT_DUPLICATED",
    corrupt: (db, ds) =>
      db.query(
        "INSERT INTO outbox (topic, key, event_type, event_id, payload, created_at, published_at) VALUES ('inventory', $1, 'StockReserved', $2, '{}', now() - interval '9 minutes', now())",
        [ds.confirmed.id, randomUUID()],
      ),
  },
  {
    name: "a stuck order (PENDING for 10 minutes)",
    code: "ORDER_STUCK",
    corrupt: (db, ds) =>
      db.query("UPDATE orders SET created_at = now() - interval '10 minutes', updated_at = now() - interval '10 minutes' WHERE id = $1", [ds.inFlight.id]),
  },
  {
    name: "a lost event (marked published, not on its topic)",
    code: "EVENT_NOT_ON_TOPIC",
    corrupt: (db, ds) => db.query("UPDATE outbox SET event_id = $2 WHERE event_id = $1", [eventOf(ds.declined, "PaymentDeclined"), randomUUID()]),
  },
  {
    name: "a reordered key (outbox order differs from the topic's)",
    code: "EVENT_OUT_OF_ORDER",
    corrupt: async (db, ds) => {
      const ids = await db.query<{ id: string; event_type: string }>(
        "SELECT id::text, event_type FROM outbox WHERE key = $1 AND topic = 'orders' ORDER BY id",
        [ds.confirmed.id],
      );
      const [placed, confirmed] = ids.rows;
      await db.query("UPDATE outbox SET id = -1 WHERE id = $1", [placed?.id]);
      await db.query("UPDATE outbox SET id = $1 WHERE id = $2", [placed?.id, confirmed?.id]);
      await db.query("UPDATE outbox SET id = $1 WHERE id = -1", [confirmed?.id]);
    },
  },
  {
    name: "money authorized on a cancelled order (void never applied)",
    code: "MONEY_ON_CANCELLED_ORDER",
    corrupt: async (db, ds) => {
      await db.query("UPDATE payments SET status = 'AUTHORIZED' WHERE order_id = $1", [ds.rejected.id]);
      await db.query("DELETE FROM provider_ledger WHERE idempotency_key = $1", [`void:${ds.rejected.id}`]);
    },
  },
  {
    name: "stock not conserved (a unit vanished)",
    code: "STOCK_NOT_CONSERVED",
    corrupt: (db) => db.query("UPDATE stock SET available = available - 1 WHERE sku = $1", [SKU_B]),
  },
  {
    name: "an inbox gap (a group committed past an event it never processed)",
    code: "INBOX_GAP",
    corrupt: (db, ds) => db.query("DELETE FROM inbox WHERE consumer_group = 'inventory' AND event_id = $1", [eventOf(ds.confirmed, "OrderConfirmed")]),
  },
  {
    name: "a dead letter never processed",
    code: "EVENT_DEAD_LETTERED",
    corrupt: (db, ds) => db.query("DELETE FROM inbox WHERE consumer_group = 'payment' AND event_id = $1", [ds.deadLetterEventId]),
  },
  {
    name: "an outbox row given up on",
    code: "OUTBOX_FAILED",
    corrupt: (db, ds) =>
      db.query("UPDATE outbox SET published_at = NULL, failed_at = now(), last_error = 'encode failed' WHERE event_id = $1", [
        eventOf(ds.confirmed, "OrderConfirmed"),
      ]),
  },
  {
    name: "a status without its outcome (confirmed, payment declined)",
    code: "OUTCOME_CONTRADICTS_STATUS",
    corrupt: (db, ds) => db.query("UPDATE order_outcomes SET payment_status = 'DECLINED' WHERE order_id = $1", [ds.confirmed.id]),
  },
  {
    name: "an effect of an order that does not exist",
    code: "ORPHAN_EFFECT",
    corrupt: (db) => db.query("INSERT INTO stock_reservations (order_id, sku, quantity, status) VALUES ($1, $2, 1, 'COMMITTED')", [randomUUID(), SKU_B]),
  },
  {
    name: "a second CONFIRMED history row",
    code: "STATUS_HISTORY_MISMATCH",
    corrupt: (db, ds) => db.query("INSERT INTO order_status_history (order_id, status) VALUES ($1, 'CONFIRMED')", [ds.confirmed.id]),
  },
  {
    name: "a decided order without a stock outcome",
    code: "STOCK_OUTCOME_MISSING",
    corrupt: (db, ds) => db.query("UPDATE order_outcomes SET stock_status = NULL WHERE order_id = $1", [ds.declined.id]),
  },
  {
    name: "a reservation that differs from the order's line",
    code: "RESERVATION_MISMATCH",
    corrupt: (db, ds) => db.query("UPDATE stock_reservations SET quantity = quantity + 1 WHERE order_id = $1 AND sku = $2", [ds.confirmed.id, SKU_B]),
  },
  {
    name: "a confirmed order whose stock was never committed",
    code: "RESERVATION_NOT_COMMITTED",
    corrupt: async (db, ds) => {
      await db.query("UPDATE stock_reservations SET status = 'RESERVED' WHERE order_id = $1", [ds.confirmed.id]);
      await db.query("UPDATE stock s SET reserved = s.reserved + r.quantity FROM stock_reservations r WHERE r.order_id = $1 AND r.sku = s.sku", [
        ds.confirmed.id,
      ]);
    },
  },
  {
    name: "a cancelled order without a payment",
    code: "PAYMENT_OUTCOME_MISSING",
    corrupt: (db, ds) => db.query("DELETE FROM payments WHERE order_id = $1", [ds.declined.id]),
  },
  {
    name: "a payment for another amount than the order's",
    code: "PAYMENT_AMOUNT_MISMATCH",
    corrupt: (db, ds) => db.query("UPDATE payments SET amount_minor = amount_minor + 1 WHERE order_id = $1", [ds.confirmed.id]),
  },
  {
    name: "a confirmed order whose payment was voided",
    code: "PAYMENT_CONTRADICTS_STATUS",
    corrupt: (db, ds) => db.query("UPDATE payments SET status = 'VOIDED' WHERE order_id = $1", [ds.confirmed.id]),
  },
  {
    name: "a void recorded here but not at the provider",
    code: "VOID_NOT_AT_PROVIDER",
    corrupt: (db, ds) => db.query("DELETE FROM provider_ledger WHERE idempotency_key = $1", [`void:${ds.rejected.id}`]),
  },
  {
    name: "a confirmation sent for a cancelled order",
    code: "NOTIFICATION_UNEXPECTED",
    corrupt: (db, ds) => db.query("UPDATE notifications SET kind = 'CONFIRMED' WHERE order_id = $1 AND kind = 'CANCELLED'", [ds.declined.id]),
  },
  {
    name: "a notification that failed to send",
    code: "NOTIFICATION_NOT_SENT",
    corrupt: (db, ds) => db.query("UPDATE notifications SET status = 'FAILED' WHERE order_id = $1 AND kind = 'RECEIPT'", [ds.confirmed.id]),
  },
  {
    name: "a compensation event never emitted (PaymentVoided)",
    code: "EVENT_MISSING",
    corrupt: (db, ds) => db.query("DELETE FROM outbox WHERE event_id = $1", [eventOf(ds.rejected, "PaymentVoided")]),
  },
  {
    name: "an event the order's state rules out (StockReleased of a confirmed order)",
    code: "EVENT_UNEXPECTED",
    corrupt: (db, ds) =>
      db.query("INSERT INTO outbox (topic, key, event_type, event_id, payload, created_at) VALUES ('inventory', $1, 'StockReleased', $2, '{}', now())", [
        ds.confirmed.id,
        randomUUID(),
      ]),
  },
  {
    name: "an outbox row left unpublished",
    code: "OUTBOX_UNPUBLISHED",
    corrupt: (db, ds) => db.query("UPDATE outbox SET published_at = NULL WHERE event_id = $1", [eventOf(ds.confirmed, "OrderConfirmed")]),
  },
  {
    name: "a key's event on another partition of its topic",
    code: "KEY_SPLIT_ACROSS_PARTITIONS",
    corrupt: async (db, ds) => {
      // A record of the key appended explicitly elsewhere, after every group's committed offset, and the outbox
      // row pointed at it: as if the topic had been grown and the key had moved.
      const eventId = randomUUID();
      const partition = ((ds.partitions.get(eventOf(ds.confirmed, "OrderPlaced")) ?? 0) + 1) % 3;
      const producer = createProducer(kafka);
      await producer.connect();
      await producer.send({
        topic: `${prefix}orders`,
        acks: -1,
        messages: [{ key: ds.confirmed.id, partition, value: "{}", headers: { "event-id": eventId, "event-type": "OrderConfirmed" } }],
      });
      await producer.disconnect();
      await db.query("UPDATE outbox SET event_id = $2 WHERE event_id = $1", [eventOf(ds.confirmed, "OrderConfirmed"), eventId]);
    },
  },
  {
    name: "topics that cannot be read in time",
    code: "KAFKA_READ_INCOMPLETE",
    corrupt: async () => undefined,
    options: { kafkaTimeoutMs: 1 },
  },
];

describe("npm run audit on a corrupted copy", () => {
  it.each(corruptions)("reports $name as $code", async ({ code, corrupt, options: overrides }) => {
    const copy = await copyOfBase();
    await withDb(copy, (db) => corrupt(db, dataset));
    const verdict = await runAudit({ ...options(copy), ...overrides });
    expect(verdict.ok).toBe(false);
    expect(violated(verdict)).toContain(code);
    expect(verdict.checks.find((c) => c.code === code)?.examples.length).toBeGreaterThan(0);
  });
});

describe("the audit command", () => {
  const cli = async (database: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const env = { ...process.env, DATABASE_URL: urlOf(database), TOPIC_PREFIX: prefix, MONITOR_STUCK_AFTER_SECONDS: "120" };
    try {
      const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "scripts/audit/audit.ts", ...args], { env, timeout: 90_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
    }
  };

  it("exits 1 with --json on a corrupted copy, records that verdict for the live page, and exits 2 naming a broken dependency", async () => {
    const copy = await copyOfBase();
    await withDb(copy, (db) => db.query("UPDATE stock SET available = available - 1 WHERE sku = $1", [SKU_B]));
    const result = await cli(copy, ["--json"]);
    expect(result.code, result.stderr).toBe(1);
    const verdict = JSON.parse(result.stdout) as AuditVerdict;
    expect(violated(verdict)).toEqual(["STOCK_NOT_CONSERVED"]);
    const stored = (await withDb(copy, (db) => lastVerdict(db))) as AuditVerdict;
    expect(stored.startedAt).toBe(verdict.startedAt);
    expect(stored.ok).toBe(false);

    const broken = await run(process.execPath, ["--import", "tsx", "scripts/audit/audit.ts", "--no-record"], {
      env: { ...process.env, DATABASE_URL: "postgresql://orderflow:orderflow@127.0.0.1:1/none" },
      timeout: 60_000,
    }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? "" }),
    );
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/PostgreSQL .* failed: .*npm run stack -- status/);
  });

  it("stores a green verdict through recordAuditVerdict", async () => {
    const verdict = await runAudit(options(baseName));
    const copy = await copyOfBase();
    await recordAuditVerdict(urlOf(copy), verdict);
    expect(((await withDb(copy, (db) => lastVerdict(db))) as AuditVerdict).ok).toBe(true);
  });
});
