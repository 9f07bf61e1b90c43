/**
 * Every SQL statement of the audit, in one module. All of them are set-based (one statement per family of checks,
 * whatever the number of orders) and run inside one REPEATABLE READ READ ONLY transaction, so every check sees the
 * same snapshot and nothing can be written. The one write, recordVerdict, runs on its own connection afterwards.
 *
 * A finding row is (code, subject, detail, total): at most `limit` examples per code come back, with the code's
 * full count in `total`.
 */
import type pg from "pg";
import { isCheckCode, type CheckCode, type Finding } from "./audit-checks.ts";

export type Queryable = Pick<pg.ClientBase, "query">;

export interface ScopeParams {
  /** Orders (and effects) created at or after this instant are audited. */
  since: Date;
  /** An order changed more recently than this is in flight: its missing effects are not violations yet. */
  stuckAfterSeconds: number;
  /** Published outbox rows older than this are deleted by the relay: only younger orders have a full trail. */
  outboxRetentionHours: number;
  /** Examples returned per code. */
  limit: number;
}

export interface FindingRows {
  code: CheckCode;
  total: number;
  examples: Finding[];
}

interface RawFindingRow {
  code: string;
  subject: string;
  detail: Record<string, unknown>;
  total: string;
}

function collect(rows: RawFindingRow[]): FindingRows[] {
  const byCode = new Map<CheckCode, FindingRows>();
  for (const row of rows) {
    if (!isCheckCode(row.code)) throw new Error(`audit SQL returned unknown check code ${row.code}`);
    const entry = byCode.get(row.code) ?? { code: row.code, total: Number(row.total), examples: [] };
    entry.examples.push({ code: row.code, subject: row.subject, detail: row.detail });
    byCode.set(row.code, entry);
  }
  return [...byCode.values()];
}

/** Wraps a query of (code, subject, detail, sort_key) findings: count per code, first `limit` examples per code. */
function limited(findingsSql: string, limitParam: string): string {
  return `
    SELECT code, subject, detail, total FROM (
      SELECT code, subject, detail,
             count(*) OVER (PARTITION BY code) AS total,
             row_number() OVER (PARTITION BY code ORDER BY sort_key, subject) AS rn
        FROM (${findingsSql}) found) ranked
     WHERE rn <= ${limitParam}
     ORDER BY code, rn`;
}

/** Opens the audit's snapshot; returns the database's clock, which every age is measured against. */
export async function beginSnapshot(client: Queryable, statementTimeoutMs: number): Promise<Date> {
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  await client.query(`SET LOCAL statement_timeout = ${Math.max(1000, Math.floor(statementTimeoutMs))}`);
  // The planner's row estimates for joined CTEs are huge, which made PostgreSQL JIT-compile the order query:
  // 13.7 of its 15 s on 10,000 orders went to compiling. Executed plainly it takes well under a second.
  await client.query("SET LOCAL jit = off");
  const { rows } = await client.query<{ now: Date }>("SELECT now() AS now");
  return rows[0]?.now ?? new Date();
}

export async function endSnapshot(client: Queryable): Promise<void> {
  await client.query("COMMIT");
}

// --- Orders -----------------------------------------------------------------------------------------------------

/*
 * One row of facts per order in scope. `settled`: the order has not changed for stuckAfterSeconds, so every
 * effect of its current status must be there. `trail`: created inside the outbox retention window, so all of its
 * outbox rows still exist and can be counted.
 */
const ORDER_FACTS = `
  WITH scope AS (
    SELECT o.id, o.status::text AS status, o.currency, o.total_minor, o.created_at, o.updated_at,
           o.updated_at < now() - make_interval(secs => $2) AS settled,
           o.created_at >= now() - make_interval(hours => $3) AS trail
      FROM orders o
     WHERE o.created_at >= $1
  ), hist AS (
    SELECT h.order_id,
           count(*) FILTER (WHERE h.status = 'PENDING') AS pending,
           count(*) FILTER (WHERE h.status = 'CONFIRMED') AS confirmed,
           count(*) FILTER (WHERE h.status = 'CANCELLED') AS cancelled
      FROM order_status_history h JOIN scope s ON s.id = h.order_id
     GROUP BY h.order_id
  ), res AS (
    SELECT r.order_id, count(*) AS lines,
           count(*) FILTER (WHERE r.status = 'RESERVED') AS reserved,
           count(*) FILTER (WHERE r.status = 'COMMITTED') AS committed,
           count(*) FILTER (WHERE r.status = 'RELEASED') AS released
      FROM stock_reservations r JOIN scope s ON s.id = r.order_id
     GROUP BY r.order_id
  ), res_diff AS (
    SELECT DISTINCT coalesce(i.order_id, r.order_id) AS order_id
      FROM (SELECT i.order_id, i.sku, i.quantity FROM order_items i JOIN res USING (order_id)) i
      FULL JOIN (SELECT r.order_id, r.sku, r.quantity FROM stock_reservations r JOIN res USING (order_id)) r
        ON r.order_id = i.order_id AND r.sku = i.sku
     WHERE i.quantity IS DISTINCT FROM r.quantity
  ), notif AS (
    SELECT n.order_id,
           count(*) FILTER (WHERE n.kind = 'RECEIPT') AS receipt,
           count(*) FILTER (WHERE n.kind = 'CONFIRMED') AS confirmed,
           count(*) FILTER (WHERE n.kind = 'CANCELLED') AS cancelled,
           count(*) FILTER (WHERE n.status <> 'SENT') AS unsent
      FROM notifications n JOIN scope s ON s.id = n.order_id
     GROUP BY n.order_id
  ), notif_copies AS (
    SELECT order_id, max(copies) AS max_copies
      FROM (SELECT n.order_id, count(*) AS copies FROM notifications n JOIN scope s ON s.id = n.order_id GROUP BY n.order_id, n.kind, n.channel) per_channel
     GROUP BY order_id
  ), trail AS (
    SELECT x.key,
           count(*) FILTER (WHERE x.event_type = 'OrderPlaced') AS placed,
           count(*) FILTER (WHERE x.event_type = 'OrderConfirmed') AS confirmed,
           count(*) FILTER (WHERE x.event_type = 'OrderCancelled') AS cancelled,
           count(*) FILTER (WHERE x.event_type IN ('StockReserved', 'StockRejected')) AS stock_outcome,
           count(*) FILTER (WHERE x.event_type = 'StockReleased') AS stock_released,
           count(*) FILTER (WHERE x.event_type IN ('PaymentAuthorized', 'PaymentDeclined')) AS payment_outcome,
           count(*) FILTER (WHERE x.event_type = 'PaymentVoided') AS payment_voided
      FROM outbox x
     WHERE x.key IN (SELECT id::text FROM scope WHERE trail)
     GROUP BY x.key
  ), facts AS (
    SELECT s.id, s.status, s.created_at, s.settled, s.trail,
           extract(epoch FROM now() - s.created_at)::bigint AS age_s,
           extract(epoch FROM now() - s.updated_at)::bigint AS quiet_s,
           s.total_minor, s.currency,
           coalesce(h.pending, 0) AS h_pending, coalesce(h.confirmed, 0) AS h_confirmed, coalesce(h.cancelled, 0) AS h_cancelled,
           oo.stock_status, oo.payment_status AS payment_outcome,
           coalesce(res.lines, 0) AS res_lines, coalesce(res.reserved, 0) AS res_reserved,
           coalesce(res.committed, 0) AS res_committed, coalesce(res.released, 0) AS res_released,
           rd.order_id IS NOT NULL AS res_differs,
           p.status::text AS payment_status, p.amount_minor AS payment_amount, p.currency AS payment_currency,
           pl.idempotency_key IS NOT NULL AS void_at_provider,
           coalesce(n.receipt, 0) AS n_receipt, coalesce(n.confirmed, 0) AS n_confirmed,
           coalesce(n.cancelled, 0) AS n_cancelled, coalesce(n.unsent, 0) AS n_unsent, coalesce(nc.max_copies, 0) AS n_max_copies,
           coalesce(t.placed, 0) AS t_placed, coalesce(t.confirmed, 0) AS t_confirmed, coalesce(t.cancelled, 0) AS t_cancelled,
           coalesce(t.stock_outcome, 0) AS t_stock_outcome, coalesce(t.stock_released, 0) AS t_stock_released,
           coalesce(t.payment_outcome, 0) AS t_payment_outcome, coalesce(t.payment_voided, 0) AS t_payment_voided
      FROM scope s
      LEFT JOIN hist h ON h.order_id = s.id
      LEFT JOIN order_outcomes oo ON oo.order_id = s.id
      LEFT JOIN res ON res.order_id = s.id
      LEFT JOIN res_diff rd ON rd.order_id = s.id
      LEFT JOIN payments p ON p.order_id = s.id
      LEFT JOIN provider_ledger pl ON pl.idempotency_key = 'void:' || s.id::text
      LEFT JOIN notif n ON n.order_id = s.id
      LEFT JOIN notif_copies nc ON nc.order_id = s.id
      LEFT JOIN trail t ON t.key = s.id::text
  )`;

/*
 * The checks on those facts. "always" checks hold at every instant (each effect is written in one transaction
 * with what implies it); the others only once the order is settled. Terminal = CONFIRMED or CANCELLED.
 */
const ORDER_FINDINGS = `
  SELECT 'ORDER_STUCK' AS code, id::text AS subject, created_at AS sort_key,
         jsonb_build_object('ageSeconds', age_s, 'stockOutcome', stock_status, 'paymentOutcome', payment_outcome, 'payment', payment_status) AS detail
    FROM facts WHERE status = 'PENDING' AND settled
  UNION ALL
  SELECT 'ORDER_IN_FLIGHT', id::text, created_at, jsonb_build_object('status', status, 'ageSeconds', age_s, 'sinceLastChangeSeconds', quiet_s)
    FROM facts WHERE NOT settled
  UNION ALL
  SELECT 'STATUS_HISTORY_MISMATCH', id::text, created_at,
         jsonb_build_object('status', status, 'PENDING', h_pending, 'CONFIRMED', h_confirmed, 'CANCELLED', h_cancelled)
    FROM facts
   WHERE h_pending <> 1
      OR (status = 'PENDING' AND h_confirmed + h_cancelled > 0)
      OR (status = 'CONFIRMED' AND (h_confirmed <> 1 OR h_cancelled <> 0))
      OR (status = 'CANCELLED' AND (h_cancelled <> 1 OR h_confirmed <> 0))
  UNION ALL
  SELECT 'OUTCOME_CONTRADICTS_STATUS', id::text, created_at, jsonb_build_object('status', status, 'stockOutcome', stock_status, 'paymentOutcome', payment_outcome)
    FROM facts
   WHERE (status = 'CONFIRMED' AND NOT (coalesce(stock_status, '') = 'RESERVED' AND coalesce(payment_outcome, '') = 'AUTHORIZED'))
      OR (status = 'CANCELLED' AND NOT (coalesce(stock_status, '') = 'REJECTED' OR coalesce(payment_outcome, '') = 'DECLINED'))
  UNION ALL
  SELECT 'STOCK_OUTCOME_MISSING', id::text, created_at, jsonb_build_object('status', status, 'reservations', res_lines)
    FROM facts WHERE status <> 'PENDING' AND settled AND stock_status IS NULL
  UNION ALL
  SELECT 'RESERVATION_MISMATCH', id::text, created_at,
         jsonb_build_object('stockOutcome', stock_status, 'reservations', res_lines, 'differsFromLines', res_differs)
    FROM facts
   WHERE (res_lines > 0 AND res_differs)
      OR (res_lines > 0 AND stock_status = 'REJECTED')
      OR (res_lines = 0 AND stock_status = 'RESERVED')
  UNION ALL
  SELECT 'RESERVATION_NOT_COMMITTED', id::text, created_at, jsonb_build_object('RESERVED', res_reserved, 'COMMITTED', res_committed, 'RELEASED', res_released)
    FROM facts WHERE status = 'CONFIRMED' AND settled AND res_committed <> res_lines
  UNION ALL
  SELECT 'RESERVATION_NOT_RELEASED', id::text, created_at, jsonb_build_object('RESERVED', res_reserved, 'COMMITTED', res_committed, 'RELEASED', res_released)
    FROM facts WHERE status = 'CANCELLED' AND settled AND res_released <> res_lines
  UNION ALL
  SELECT 'PAYMENT_OUTCOME_MISSING', id::text, created_at, jsonb_build_object('status', status, 'payment', payment_status)
    FROM facts WHERE status <> 'PENDING' AND settled AND payment_status IS NULL
  UNION ALL
  SELECT 'PAYMENT_AMOUNT_MISMATCH', id::text, created_at,
         jsonb_build_object('orderTotalMinor', total_minor, 'orderCurrency', currency, 'paymentAmountMinor', payment_amount, 'paymentCurrency', payment_currency)
    FROM facts WHERE payment_status IS NOT NULL AND (payment_amount <> total_minor OR payment_currency <> currency)
  UNION ALL
  SELECT 'PAYMENT_CONTRADICTS_STATUS', id::text, created_at, jsonb_build_object('status', status, 'payment', payment_status)
    FROM facts WHERE status = 'CONFIRMED' AND payment_status <> 'AUTHORIZED'
  UNION ALL
  SELECT 'MONEY_ON_CANCELLED_ORDER', id::text, created_at, jsonb_build_object('payment', payment_status, 'amountMinor', payment_amount, 'currency', payment_currency)
    FROM facts WHERE status = 'CANCELLED' AND settled AND payment_status IN ('AUTHORIZED', 'PENDING')
  UNION ALL
  SELECT 'VOID_NOT_AT_PROVIDER', id::text, created_at, jsonb_build_object('payment', payment_status)
    FROM facts WHERE payment_status = 'VOIDED' AND NOT void_at_provider
  UNION ALL
  SELECT 'NOTIFICATION_MISSING', id::text, created_at,
         jsonb_build_object('status', status, 'RECEIPT', n_receipt, 'CONFIRMED', n_confirmed, 'CANCELLED', n_cancelled)
    FROM facts
   WHERE settled AND (n_receipt = 0 OR (status = 'CONFIRMED' AND n_confirmed = 0) OR (status = 'CANCELLED' AND n_cancelled = 0))
  UNION ALL
  SELECT 'NOTIFICATION_UNEXPECTED', id::text, created_at, jsonb_build_object('status', status, 'CONFIRMED', n_confirmed, 'CANCELLED', n_cancelled)
    FROM facts WHERE (n_confirmed > 0 AND status <> 'CONFIRMED') OR (n_cancelled > 0 AND status <> 'CANCELLED')
  UNION ALL
  SELECT 'NOTIFICATION_DUPLICATED', id::text, created_at, jsonb_build_object('maxCopiesPerKindAndChannel', n_max_copies)
    FROM facts WHERE n_max_copies > 1
  UNION ALL
  SELECT 'NOTIFICATION_NOT_SENT', id::text, created_at, jsonb_build_object('notSent', n_unsent)
    FROM facts WHERE settled AND n_unsent > 0
  UNION ALL
  SELECT CASE WHEN e.actual > 1 THEN 'EVENT_DUPLICATED' WHEN e.actual < e.expected THEN 'EVENT_MISSING' ELSE 'EVENT_UNEXPECTED' END,
         f.id::text, f.created_at, jsonb_build_object('event', e.event, 'expected', e.expected, 'actual', e.actual, 'status', f.status)
    FROM facts f
   CROSS JOIN LATERAL (VALUES
     ('OrderPlaced', f.t_placed, 1),
     ('OrderConfirmed', f.t_confirmed, CASE WHEN f.status = 'CONFIRMED' THEN 1 ELSE 0 END),
     ('OrderCancelled', f.t_cancelled, CASE WHEN f.status = 'CANCELLED' THEN 1 ELSE 0 END),
     ('StockReserved|StockRejected', f.t_stock_outcome, CASE WHEN f.stock_status IS NULL THEN 0 ELSE 1 END),
     ('StockReleased', f.t_stock_released, CASE WHEN f.status = 'CANCELLED' AND f.res_released > 0 THEN 1 ELSE 0 END),
     -- A payment left PENDING at the provider and then voided never had an outcome event.
     ('PaymentAuthorized|PaymentDeclined', f.t_payment_outcome, CASE WHEN f.payment_outcome IS NULL THEN 0 ELSE 1 END),
     ('PaymentVoided', f.t_payment_voided, CASE WHEN f.payment_status = 'VOIDED' THEN 1 ELSE 0 END)
   ) AS e(event, actual, expected)
   WHERE f.trail
     AND (e.actual > 1 OR (e.actual <> e.expected AND (f.settled OR e.event = 'OrderPlaced')))`;

const ORPHAN_FINDINGS = `
  SELECT 'ORPHAN_EFFECT' AS code, e.order_id::text AS subject, e.created_at AS sort_key, jsonb_build_object('table', e.tbl) AS detail
    FROM (
      SELECT 'stock_reservations' AS tbl, order_id, created_at FROM stock_reservations
      UNION ALL SELECT 'payments', order_id, created_at FROM payments
      UNION ALL SELECT 'notifications', order_id, created_at FROM notifications
      UNION ALL SELECT 'order_outcomes', order_id, updated_at FROM order_outcomes
    ) e
   WHERE e.created_at >= $1 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = e.order_id)`;

export async function orderFindings(client: Queryable, params: ScopeParams): Promise<FindingRows[]> {
  const { rows } = await client.query<RawFindingRow>(`${ORDER_FACTS} ${limited(ORDER_FINDINGS, "$4")}`, [
    params.since,
    params.stuckAfterSeconds,
    params.outboxRetentionHours,
    params.limit,
  ]);
  const orphans = await client.query<RawFindingRow>(limited(ORPHAN_FINDINGS, "$2"), [params.since, params.limit]);
  return collect([...rows, ...orphans.rows]);
}

export interface OrderScopeSummary {
  orders: number;
  byStatus: Record<string, number>;
  /** Orders whose whole outbox trail is still retained. */
  withOutboxTrail: number;
  oldestOrderAt: Date | null;
}

export async function orderScopeSummary(client: Queryable, params: ScopeParams): Promise<OrderScopeSummary> {
  const { rows } = await client.query<{ status: string; n: string; trail: string; oldest: Date | null }>(
    `SELECT status::text AS status, count(*) AS n,
            count(*) FILTER (WHERE created_at >= now() - make_interval(hours => $2)) AS trail, min(created_at) AS oldest
       FROM orders WHERE created_at >= $1 GROUP BY status`,
    [params.since, params.outboxRetentionHours],
  );
  const byStatus: Record<string, number> = { PENDING: 0, CONFIRMED: 0, CANCELLED: 0 };
  let oldest: Date | null = null;
  for (const row of rows) {
    byStatus[row.status] = Number(row.n);
    if (row.oldest && (!oldest || row.oldest < oldest)) oldest = row.oldest;
  }
  return {
    orders: rows.reduce((sum, row) => sum + Number(row.n), 0),
    byStatus,
    withOutboxTrail: rows.reduce((sum, row) => sum + Number(row.trail), 0),
    oldestOrderAt: oldest,
  };
}

// --- Stock ------------------------------------------------------------------------------------------------------

const STOCK_FINDINGS = `
  WITH held AS (
    SELECT sku,
           coalesce(sum(quantity) FILTER (WHERE status = 'RESERVED'), 0) AS reserved,
           coalesce(sum(quantity) FILTER (WHERE status = 'COMMITTED'), 0) AS sold
      FROM stock_reservations GROUP BY sku
  ), facts AS (
    SELECT s.sku, s.available, s.reserved, coalesce(h.reserved, 0) AS held, coalesce(h.sold, 0) AS sold, r.received_units
      FROM stock s LEFT JOIN held h USING (sku) LEFT JOIN stock_received r USING (sku)
  )
  SELECT 'STOCK_RESERVED_MISMATCH' AS code, sku AS subject, sku AS sort_key,
         jsonb_build_object('reserved', reserved, 'heldByReservations', held) AS detail
    FROM facts WHERE reserved <> held
  UNION ALL
  SELECT 'STOCK_NOT_CONSERVED', sku, sku,
         jsonb_build_object('received', received_units, 'available', available, 'reserved', reserved, 'sold', sold,
                            'unaccounted', received_units - (available + reserved + sold))
    FROM facts WHERE received_units IS NOT NULL AND received_units <> available + reserved + sold
  UNION ALL
  SELECT 'STOCK_BASELINE_MISSING', sku, sku, jsonb_build_object('available', available, 'reserved', reserved)
    FROM facts WHERE received_units IS NULL`;

export async function stockFindings(client: Queryable, params: Pick<ScopeParams, "limit">): Promise<FindingRows[]> {
  const { rows } = await client.query<RawFindingRow>(limited(STOCK_FINDINGS, "$1"), [params.limit]);
  return collect(rows);
}

export async function stockSummary(client: Queryable): Promise<{ skus: number }> {
  const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM stock");
  return { skus: Number(rows[0]?.n ?? 0) };
}

// --- Outbox -----------------------------------------------------------------------------------------------------

const OUTBOX_FINDINGS = `
  SELECT CASE WHEN failed_at IS NOT NULL THEN 'OUTBOX_FAILED'
              WHEN created_at < now() - make_interval(secs => $2) THEN 'OUTBOX_UNPUBLISHED'
              ELSE 'OUTBOX_PENDING' END AS code,
         id::text AS subject, id AS sort_key,
         jsonb_build_object('topic', topic, 'key', key, 'eventType', event_type, 'eventId', event_id, 'attempts', attempts,
                            'lastError', left(last_error, 300), 'ageSeconds', extract(epoch FROM now() - created_at)::bigint) AS detail
    FROM outbox
   WHERE published_at IS NULL AND created_at >= $1`;

export async function outboxFindings(client: Queryable, params: ScopeParams): Promise<FindingRows[]> {
  const { rows } = await client.query<RawFindingRow>(limited(OUTBOX_FINDINGS, "$3"), [params.since, params.stuckAfterSeconds, params.limit]);
  return collect(rows);
}

export interface OutboxSummary {
  publishedRetained: number;
  unpublished: number;
  oldestRetainedAt: Date | null;
}

export async function outboxSummary(client: Queryable, since: Date): Promise<OutboxSummary> {
  const { rows } = await client.query<{ published: string; unpublished: string; oldest: Date | null }>(
    `SELECT count(*) FILTER (WHERE published_at IS NOT NULL) AS published, count(*) FILTER (WHERE published_at IS NULL) AS unpublished,
            min(created_at) AS oldest
       FROM outbox WHERE created_at >= $1`,
    [since],
  );
  const row = rows[0];
  return { publishedRetained: Number(row?.published ?? 0), unpublished: Number(row?.unpublished ?? 0), oldestRetainedAt: row?.oldest ?? null };
}

export interface PublishedRow {
  id: string;
  topic: string;
  key: string;
  eventId: string;
  eventType: string;
}

const OUTBOX_CURSOR = "audit_published_outbox";

/**
 * Streams the published rows still retained, ordered by (topic, key, id): per key in outbox order, which is the
 * order the key's events must have on the topic. A server-side cursor keeps memory flat on any backlog.
 */
export async function* publishedOutboxRows(client: Queryable, since: Date, batchSize = 10_000): AsyncGenerator<PublishedRow[]> {
  await client.query(
    `DECLARE ${OUTBOX_CURSOR} NO SCROLL CURSOR FOR
       SELECT x.id::text AS id, x.topic, x.key, x.event_id::text AS "eventId", x.event_type AS "eventType"
         FROM outbox x WHERE x.published_at IS NOT NULL AND x.created_at >= $1
        ORDER BY x.topic, x.key, x.id`,
    [since],
  );
  try {
    for (;;) {
      const { rows } = await client.query<PublishedRow>(`FETCH ${batchSize} FROM ${OUTBOX_CURSOR}`);
      if (rows.length === 0) return;
      yield rows;
    }
  } finally {
    await client.query(`CLOSE ${OUTBOX_CURSOR}`);
  }
}

// --- Inbox ------------------------------------------------------------------------------------------------------

/** The event ids among `eventIds` that have no inbox row of `group` (one indexed probe per id). */
export async function eventsMissingFromInbox(client: Queryable, group: string, eventIds: readonly string[]): Promise<string[]> {
  if (eventIds.length === 0) return [];
  const { rows } = await client.query<{ event_id: string }>(
    `SELECT e.event_id::text AS event_id FROM unnest($2::uuid[]) AS e(event_id)
      WHERE NOT EXISTS (SELECT 1 FROM inbox i WHERE i.consumer_group = $1 AND i.event_id = e.event_id)`,
    [group, eventIds],
  );
  return rows.map((row) => row.event_id);
}

// --- The verdict ------------------------------------------------------------------------------------------------

/** Stores one run's verdict (the live page reads the newest). Its own statement, outside the read-only snapshot. */
export async function recordVerdict(client: Queryable, run: { startedAt: Date; ok: boolean; violations: number; verdict: unknown }): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    "INSERT INTO audit_runs (started_at, ok, violations, verdict) VALUES ($1, $2, $3, $4::jsonb) RETURNING id::text AS id",
    [run.startedAt, run.ok, run.violations, JSON.stringify(run.verdict)],
  );
  return rows[0]?.id ?? "";
}

/** The newest recorded verdict, or undefined when the audit never ran here. */
export async function lastVerdict(client: Queryable): Promise<unknown> {
  const { rows } = await client.query<{ verdict: unknown }>("SELECT verdict FROM audit_runs ORDER BY finished_at DESC, id DESC LIMIT 1");
  return rows[0]?.verdict;
}
