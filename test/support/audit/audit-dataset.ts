/**
 * A small, fully consistent Orderflow dataset for the audit's tests, written the way the pipeline writes it: four
 * orders (confirmed; cancelled by a declined payment; cancelled by a stock rejection with the payment voided;
 * one still in flight, its payment pending at the provider), their stock moves, payments, provider ledger,
 * notifications, outbox rows marked published, inbox rows, and the same events on Kafka topics of their own
 * prefix with every consumer group's offsets committed at the end. One dead letter (payment) that was replayed.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { ensureTopics, fetchTopicOffsets, withAdmin } from "../../../services/shared/kafka/kafka-admin.ts";
import { createProducer } from "../../../services/shared/kafka/kafka-client.ts";
import type { Kafka } from "../../../services/shared/kafka/kafka-types.ts";
import { EVENT_TOPICS, type EventType } from "../../../services/shared/events/topic-catalogue.ts";
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER } from "../../../services/shared/events/event-headers.ts";
import { DLQ_HEADERS } from "../../../services/shared/consumer/dead-letter.ts";
import { CONSUMER_EXPECTATIONS } from "../../../scripts/audit/kafka-reconcile.ts";

export const SKU_A = "AUD-A";
export const SKU_B = "AUD-B";

export interface DatasetOrder {
  id: string;
  /** Event type -> event id, in outbox order. */
  events: Map<EventType, string>;
}

export interface AuditDataset {
  confirmed: DatasetOrder;
  declined: DatasetOrder;
  rejected: DatasetOrder;
  inFlight: DatasetOrder;
  /** The payment group's dead letter (O1's OrderPlaced), processed since. */
  deadLetterEventId: string;
  /** Event id -> the partition its record landed on. */
  partitions: Map<string, number>;
}

type Line = readonly [sku: string, quantity: number];
const PRICES: Record<string, number> = { [SKU_A]: 1000, [SKU_B]: 500 };

interface OrderSpec {
  lines: readonly Line[];
  status: "PENDING" | "CONFIRMED" | "CANCELLED";
  stock: "RESERVED" | "REJECTED";
  reservation?: "RESERVED" | "COMMITTED" | "RELEASED";
  payment: "AUTHORIZED" | "DECLINED" | "VOIDED" | "PENDING";
  paymentOutcome: "AUTHORIZED" | "DECLINED" | null;
  events: readonly EventType[];
  notifications: ReadonlyArray<readonly [kind: string, after: EventType]>;
  ageSeconds: number;
}

const total = (lines: readonly Line[]): number => lines.reduce((sum, [sku, quantity]) => sum + quantity * (PRICES[sku] ?? 0), 0);

async function insertOrder(db: pg.ClientBase, spec: OrderSpec): Promise<DatasetOrder> {
  const id = randomUUID();
  const at = `now() - make_interval(secs => ${spec.ageSeconds})`;
  await db.query(`INSERT INTO orders (id, customer_id, status, currency, total_minor, created_at, updated_at) VALUES ($1, $2, $3, 'EUR', $4, ${at}, ${at})`, [
    id,
    `audit-${id.slice(0, 8)}`,
    spec.status,
    total(spec.lines),
  ]);
  for (const [sku, quantity] of spec.lines) {
    await db.query("INSERT INTO order_items (order_id, sku, quantity, unit_price_minor, line_total_minor) VALUES ($1, $2, $3, $4, $5)", [
      id,
      sku,
      quantity,
      PRICES[sku],
      quantity * (PRICES[sku] ?? 0),
    ]);
  }
  await db.query(`INSERT INTO order_status_history (order_id, status, reason, at) VALUES ($1, 'PENDING', 'accepted', ${at})`, [id]);
  if (spec.status !== "PENDING") await db.query(`INSERT INTO order_status_history (order_id, status, at) VALUES ($1, $2, ${at})`, [id, spec.status]);
  const events = new Map<EventType, string>();
  for (const type of spec.events) {
    const eventId = randomUUID();
    events.set(type, eventId);
    await db.query(
      `INSERT INTO outbox (topic, key, event_type, event_id, payload, created_at, published_at, attempts) VALUES ($1, $2, $3, $4, '{}', ${at}, ${at}, 1)`,
      [EVENT_TOPICS[type], id, type, eventId],
    );
    for (const consumer of CONSUMER_EXPECTATIONS) {
      if ((consumer.handles as readonly string[]).includes(type))
        await db.query("INSERT INTO inbox (consumer_group, event_id) VALUES ($1, $2)", [consumer.group, eventId]);
    }
  }
  await db.query("INSERT INTO order_outcomes (order_id, stock_status, payment_status) VALUES ($1, $2, $3)", [id, spec.stock, spec.paymentOutcome]);
  await stockMoves(db, id, spec);
  await paymentRows(db, id, spec);
  for (const [kind, after] of spec.notifications) {
    await db.query(
      "INSERT INTO notifications (order_id, event_id, kind, channel, recipient, idempotency_key, status, attempts, sent_at) VALUES ($1, $2, $3, 'log', 'audit', $4, 'SENT', 1, now())",
      [id, events.get(after), kind, `notify:${events.get(after)}:log`],
    );
  }
  return { id, events };
}

/** The inventory service's own statements: guarded reserve, then commit or release. */
async function stockMoves(db: pg.ClientBase, orderId: string, spec: OrderSpec): Promise<void> {
  if (spec.stock !== "RESERVED" || !spec.reservation) return;
  for (const [sku, quantity] of spec.lines) {
    await db.query("UPDATE stock SET available = available - $2, reserved = reserved + $2 WHERE sku = $1 AND available >= $2", [sku, quantity]);
    await db.query("INSERT INTO stock_reservations (order_id, sku, quantity, status) VALUES ($1, $2, $3, $4)", [orderId, sku, quantity, spec.reservation]);
    if (spec.reservation === "COMMITTED") await db.query("UPDATE stock SET reserved = reserved - $2 WHERE sku = $1", [sku, quantity]);
    if (spec.reservation === "RELEASED")
      await db.query("UPDATE stock SET available = available + $2, reserved = reserved - $2 WHERE sku = $1", [sku, quantity]);
  }
}

async function paymentRows(db: pg.ClientBase, orderId: string, spec: OrderSpec): Promise<void> {
  const amount = total(spec.lines);
  const providerId = `sim_${orderId}`;
  await db.query("INSERT INTO payments (order_id, idempotency_key, provider_payment_id, amount_minor, currency, status) VALUES ($1, $2, $3, $4, 'EUR', $5)", [
    orderId,
    `authorize:${orderId}`,
    providerId,
    amount,
    spec.payment,
  ]);
  const authorizeOutcome = spec.payment === "PENDING" ? "pending" : spec.payment === "DECLINED" ? "declined" : "authorized";
  const ledger =
    "INSERT INTO provider_ledger (idempotency_key, operation, request_hash, provider_payment_id, outcome, amount_minor, currency) VALUES ($1, $2, repeat('0', 64), $3, $4, $5, 'EUR')";
  await db.query(ledger, [`authorize:${orderId}`, "authorize", providerId, authorizeOutcome, amount]);
  if (spec.payment === "VOIDED") await db.query(ledger, [`void:${orderId}`, "void", providerId, "voided", amount]);
}

/** Writes the dataset into `db` (migrated, empty of these SKUs) and publishes its events under `prefix`. */
export async function buildDataset(db: pg.ClientBase, kafka: Kafka, prefix: string): Promise<AuditDataset> {
  for (const [sku, stock] of [
    [SKU_A, 10],
    [SKU_B, 5],
  ] as const) {
    await db.query("INSERT INTO products (sku, name, price_minor, currency) VALUES ($1, $1, $2, 'EUR')", [sku, PRICES[sku]]);
    await db.query("INSERT INTO stock (sku, available) VALUES ($1, $2)", [sku, stock]);
  }
  const confirmed = await insertOrder(db, {
    lines: [
      [SKU_A, 2],
      [SKU_B, 1],
    ],
    status: "CONFIRMED",
    stock: "RESERVED",
    reservation: "COMMITTED",
    payment: "AUTHORIZED",
    paymentOutcome: "AUTHORIZED",
    events: ["OrderPlaced", "StockReserved", "PaymentAuthorized", "OrderConfirmed"],
    notifications: [
      ["RECEIPT", "OrderPlaced"],
      ["CONFIRMED", "OrderConfirmed"],
    ],
    ageSeconds: 600,
  });
  const declined = await insertOrder(db, {
    lines: [[SKU_A, 1]],
    status: "CANCELLED",
    stock: "RESERVED",
    reservation: "RELEASED",
    payment: "DECLINED",
    paymentOutcome: "DECLINED",
    events: ["OrderPlaced", "StockReserved", "PaymentDeclined", "OrderCancelled", "StockReleased"],
    notifications: [
      ["RECEIPT", "OrderPlaced"],
      ["CANCELLED", "OrderCancelled"],
    ],
    ageSeconds: 590,
  });
  const rejected = await insertOrder(db, {
    lines: [[SKU_B, 10]],
    status: "CANCELLED",
    stock: "REJECTED",
    payment: "VOIDED",
    paymentOutcome: "AUTHORIZED",
    events: ["OrderPlaced", "StockRejected", "PaymentAuthorized", "OrderCancelled", "PaymentVoided"],
    notifications: [
      ["RECEIPT", "OrderPlaced"],
      ["CANCELLED", "OrderCancelled"],
    ],
    ageSeconds: 580,
  });
  const inFlight = await insertOrder(db, {
    lines: [[SKU_A, 3]],
    status: "PENDING",
    stock: "RESERVED",
    reservation: "RESERVED",
    payment: "PENDING",
    paymentOutcome: null,
    events: ["OrderPlaced", "StockReserved"],
    notifications: [["RECEIPT", "OrderPlaced"]],
    ageSeconds: 5,
  });
  const dataset = {
    confirmed,
    declined,
    rejected,
    inFlight,
    deadLetterEventId: confirmed.events.get("OrderPlaced") ?? "",
    partitions: new Map<string, number>(),
  };
  await publishDataset(db, kafka, prefix, dataset);
  return dataset;
}

/** The outbox's published rows onto the topics in id order, one dead letter, and every group's offsets at the end. */
async function publishDataset(db: pg.ClientBase, kafka: Kafka, prefix: string, dataset: AuditDataset): Promise<void> {
  const topics = ["orders", "inventory", "payments", "dlq.payment"].map((logical) => `${prefix}${logical}`);
  await withAdmin(kafka, (admin) =>
    ensureTopics(
      admin,
      topics.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
    ),
  );
  const { rows } = await db.query<{ topic: string; key: string; event_type: string; event_id: string }>(
    "SELECT topic, key, event_type, event_id::text FROM outbox ORDER BY id",
  );
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    for (const row of rows) {
      const [sent] = await producer.send({
        topic: `${prefix}${row.topic}`,
        acks: -1,
        messages: [{ key: row.key, value: Buffer.from("{}"), headers: { [EVENT_TYPE_HEADER]: row.event_type, [EVENT_ID_HEADER]: row.event_id } }],
      });
      if (sent) dataset.partitions.set(row.event_id, sent.partition);
    }
    await producer.send({
      topic: `${prefix}dlq.payment`,
      acks: -1,
      messages: [
        {
          key: dataset.confirmed.id,
          value: Buffer.from("{}"),
          headers: {
            [EVENT_TYPE_HEADER]: "OrderPlaced",
            [EVENT_ID_HEADER]: dataset.deadLetterEventId,
            [DLQ_HEADERS.consumerGroup]: "payment",
            [DLQ_HEADERS.originalTopic]: `${prefix}orders`,
            [DLQ_HEADERS.originalPartition]: "0",
            [DLQ_HEADERS.originalOffset]: "0",
            [DLQ_HEADERS.errorCode]: "PROVIDER_UNAVAILABLE",
          },
        },
      ],
    });
  } finally {
    await producer.disconnect();
  }
  await commitEveryGroupAtEnd(kafka, prefix);
}

/** As if every consumer group had processed its topics to the end: committed offset = end offset. */
export async function commitEveryGroupAtEnd(kafka: Kafka, prefix: string): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    for (const consumer of CONSUMER_EXPECTATIONS) {
      for (const logical of consumer.topics) {
        const topic = `${prefix}${logical}`;
        const ends = await fetchTopicOffsets(admin, topic);
        await admin.setOffsets({
          groupId: `${prefix}${consumer.group}`,
          topic,
          partitions: ends.map((end) => ({ partition: end.partition, offset: String(end.high) })),
        });
      }
    }
  });
}

/** Removes what commitEveryGroupAtEnd left: the groups' committed offsets. */
export async function deleteDatasetGroups(kafka: Kafka, prefix: string): Promise<void> {
  await withAdmin(kafka, (admin) => admin.deleteGroups(CONSUMER_EXPECTATIONS.map((consumer) => `${prefix}${consumer.group}`)));
}
