// Every SQL statement of the order timeline (GET /orders/{id}/timeline) lives here: one read of each table that
// records a step of one order. Read-only, outside a transaction: each table is read as it is now, and a step that
// commits between two reads shows up on the next request.
import { sql, type SqlExecutor } from "../../shared/db/sql.ts";

export interface OrderRow {
  id: string;
  status: string;
  customer_id: string;
  total_minor: string;
  currency: string;
  cancel_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface StatusRow {
  status: string;
  reason: string | null;
  at: Date;
}

export interface OutboxTimelineRow {
  id: string;
  topic: string;
  event_type: string;
  event_id: string;
  traceparent: string | null;
  created_at: Date;
  published_at: Date | null;
  kafka_partition: number | null;
  kafka_offset: string | null;
  attempts: number;
  last_error: string | null;
  failed_at: Date | null;
}

export interface InboxTimelineRow {
  consumer_group: string;
  event_id: string;
  processed_at: Date;
}

export interface ReservationRow {
  sku: string;
  quantity: number;
  status: string;
  created_at: Date;
  updated_at: Date;
}

export interface PaymentRow {
  provider_payment_id: string | null;
  amount_minor: string;
  currency: string;
  status: string;
  decline_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface CallbackRow {
  event_type: string;
  received_at: Date;
  reconciled_at: Date | null;
}

export interface NotificationRow {
  kind: string;
  channel: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

export interface OutcomeRow {
  stock_status: string | null;
  stock_reason: string | null;
  payment_status: string | null;
  payment_reason: string | null;
  updated_at: Date;
}

export interface TombstoneRow {
  consumer_group: string;
  reason: string;
  at: Date;
}

export interface OrderRecords {
  order: OrderRow;
  history: StatusRow[];
  outbox: OutboxTimelineRow[];
  inbox: InboxTimelineRow[];
  reservations: ReservationRow[];
  payment: PaymentRow | undefined;
  callbacks: CallbackRow[];
  notifications: NotificationRow[];
  outcome: OutcomeRow | undefined;
  deadline: { due_at: Date } | undefined;
  tombstones: TombstoneRow[];
}

/**
 * The outbox has no index on key alone (it would cost every accept and every relay mark); an order's rows are written
 * from its accept on, so the created_at index bounds the search: from just before the order to just after its last
 * change (now, while it is not terminal; compensations follow the cancel within moments).
 */
const OUTBOX_SLACK = "5 minutes";

async function readOrder(db: SqlExecutor, orderId: string): Promise<OrderRow | undefined> {
  const [row] = await db.rows<OrderRow>(sql`
    SELECT id::text, status::text, customer_id, total_minor::text, currency, cancel_reason, created_at, updated_at
      FROM orders WHERE id = ${orderId}::uuid`);
  return row;
}

async function readOutbox(db: SqlExecutor, order: OrderRow): Promise<OutboxTimelineRow[]> {
  const until = order.status === "PENDING" ? new Date() : order.updated_at;
  return db.rows<OutboxTimelineRow>(sql`
    SELECT id::text, topic, event_type, event_id::text, headers->>'traceparent' AS traceparent, created_at, published_at,
           kafka_partition, kafka_offset::text, attempts, last_error, failed_at
      FROM outbox
     WHERE key = ${order.id}
       AND created_at BETWEEN ${order.created_at}::timestamptz - interval '5 seconds' AND ${until}::timestamptz + ${OUTBOX_SLACK}::interval
     ORDER BY outbox.id`); // qualified: a bare "id" sorts by the text output column ("11" before "5")
}

/**
 * The traceparent the order's accept stored on its OrderPlaced row (the trace's root), and when the order was placed;
 * undefined when there is no such order. traceparent is null once retention removed the row.
 */
export async function readOrderTraceparent(db: SqlExecutor, orderId: string): Promise<{ createdAt: Date; traceparent: string | null } | undefined> {
  const [row] = await db.rows<{ created_at: Date; traceparent: string | null }>(sql`
    SELECT o.created_at,
           (SELECT ob.headers->>'traceparent' FROM outbox ob
             WHERE ob.created_at BETWEEN o.created_at - interval '5 seconds' AND o.created_at + interval '5 seconds'
               AND ob.key = o.id::text AND ob.event_type = 'OrderPlaced'
             ORDER BY ob.id LIMIT 1) AS traceparent
      FROM orders o WHERE o.id = ${orderId}::uuid`);
  return row === undefined ? undefined : { createdAt: row.created_at, traceparent: row.traceparent };
}

/** Reads every record of one order, or undefined when there is no such order. */
export async function readOrderRecords(db: SqlExecutor, orderId: string, groups: readonly string[]): Promise<OrderRecords | undefined> {
  const order = await readOrder(db, orderId);
  if (order === undefined) return undefined;
  const outbox = await readOutbox(db, order);
  // One statement after the other: a timeline is an operator's request, it should not take a pool's worth of
  // connections from the accept path at once.
  const history = await db.rows<StatusRow>(sql`SELECT status::text, reason, at FROM order_status_history WHERE order_id = ${orderId}::uuid ORDER BY at, id`);
  const inbox = await db.rows<InboxTimelineRow>(sql`
    SELECT consumer_group, event_id::text, processed_at FROM inbox
     WHERE consumer_group = ANY(${[...groups]}::text[]) AND event_id = ANY(${outbox.map((row) => row.event_id)}::uuid[])
     ORDER BY processed_at`);
  const reservations = await db.rows<ReservationRow>(
    sql`SELECT sku, quantity, status::text, created_at, updated_at FROM stock_reservations WHERE order_id = ${orderId}::uuid ORDER BY sku`,
  );
  const payments = await db.rows<PaymentRow>(sql`
    SELECT provider_payment_id, amount_minor::text, currency, status::text, decline_reason, created_at, updated_at
      FROM payments WHERE order_id = ${orderId}::uuid`);
  const notifications = await db.rows<NotificationRow>(sql`
    SELECT kind, channel, status::text, attempts, last_error, created_at, sent_at FROM notifications
     WHERE order_id = ${orderId}::uuid ORDER BY created_at`);
  const outcomes = await db.rows<OutcomeRow>(
    sql`SELECT stock_status, stock_reason, payment_status, payment_reason, updated_at FROM order_outcomes WHERE order_id = ${orderId}::uuid`,
  );
  const deadlines = await db.rows<{ due_at: Date }>(sql`SELECT due_at FROM order_deadlines WHERE order_id = ${orderId}::uuid`);
  const tombstones = await db.rows<TombstoneRow>(sql`
    SELECT consumer_group, reason, at FROM order_tombstones
     WHERE consumer_group = ANY(${[...groups]}::text[]) AND order_id = ${orderId}::uuid ORDER BY at`);
  const payment = payments[0];
  const callbacks =
    payment?.provider_payment_id == null
      ? []
      : await db.rows<CallbackRow>(sql`
          SELECT event_type, received_at, reconciled_at FROM payment_callbacks
           WHERE provider_payment_id = ${payment.provider_payment_id} ORDER BY received_at`);
  return { order, history, outbox, inbox, reservations, payment, callbacks, notifications, outcome: outcomes[0], deadline: deadlines[0], tombstones };
}
