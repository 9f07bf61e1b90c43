/**
 * The accept write: the order, its lines, its first status, (with an Idempotency-Key) the key's record with the
 * answer, and the OrderPlaced outbox row (the one outbox module's INSERT, spliced in) in ONE statement: data-modifying
 * CTEs, lines through unnest, run as its own implicit transaction. Everything exists once it answers or nothing does,
 * in one round trip: the connection is never held open across the API's event loop between statements (at 50
 * orders/s that wait was 57 ms per order; docs/performance.md). The key row is the fence for retries (see
 * idempotency-store.ts).
 */
import { sql, type SqlExecutor, type SqlQuery } from "../../shared/db/sql.ts";
import { outboxInsert, type OutboxRow } from "../../shared/outbox/outbox-write.ts";
import type { IdempotencyClaim } from "./idempotency-store.ts";
import type { PricedLine } from "./price-order.ts";

export interface OrderRows {
  orderId: string;
  customerId: string;
  currency: string;
  totalMinor: number;
  /** JSON text of the shipping address, or null. */
  shippingAddress: string | null;
  createdAt: Date;
  lines: readonly PricedLine[];
}

function lineArrays(lines: readonly PricedLine[]) {
  return {
    skus: lines.map((line) => line.sku),
    quantities: lines.map((line) => line.quantity),
    prices: lines.map((line) => line.unitPriceMinor),
    totals: lines.map((line) => line.lineTotalMinor),
  };
}

/**
 * The order statement. With a key, its record comes first and the order is written only if the key was free
 * (absent, expired, or an abandoned old-protocol claim); a key row another transaction is writing makes this
 * statement wait for that transaction. Without a key (all key parameters null) the order is written as is. One
 * statement text for both, so one prepared statement per connection.
 */
function orderStatement(order: OrderRows, idempotency: AcceptCommand["idempotency"], outbox: OutboxRow): SqlQuery {
  const { skus, quantities, prices, totals } = lineArrays(order.lines);
  const claim = idempotency?.claim;
  const answer = idempotency ? { body: JSON.stringify(idempotency.answer.body), headers: JSON.stringify(idempotency.answer.headers) } : undefined;
  return sql`
    WITH claim AS (
      INSERT INTO idempotency_keys AS k (key, request_hash, status, response_status, response_body, response_headers, created_at, expires_at)
      SELECT ${claim?.key ?? null}::text, ${claim?.requestHash ?? null}::text, 'completed', 201, ${answer?.body ?? null}::jsonb, ${answer?.headers ?? null}::jsonb,
             ${order.createdAt}::timestamptz, ${claim?.expiresAt ?? null}::timestamptz
       WHERE ${claim?.key ?? null}::text IS NOT NULL
      ON CONFLICT (key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = EXCLUDED.status, response_status = EXCLUDED.response_status,
        response_body = EXCLUDED.response_body, response_headers = EXCLUDED.response_headers, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
      WHERE k.expires_at <= EXCLUDED.created_at
         OR (k.status = 'in_flight' AND k.request_hash = EXCLUDED.request_hash AND k.created_at < ${claim?.abandonedBefore ?? null}::timestamptz)
      RETURNING 1
    ), admitted AS (
      SELECT 1 FROM claim UNION ALL SELECT 1 WHERE ${claim?.key ?? null}::text IS NULL
    ), new_order AS (
      INSERT INTO orders (id, customer_id, status, currency, total_minor, shipping_address, created_at, updated_at)
      SELECT ${order.orderId}::uuid, ${order.customerId}, 'PENDING', ${order.currency}, ${order.totalMinor}::bigint, ${order.shippingAddress}::jsonb,
             ${order.createdAt}::timestamptz, ${order.createdAt}::timestamptz
        FROM admitted
      RETURNING id
    ), new_items AS (
      INSERT INTO order_items (order_id, sku, quantity, unit_price_minor, line_total_minor)
      SELECT new_order.id, line.sku, line.quantity, line.unit_price_minor, line.line_total_minor
        FROM new_order, unnest(${skus}::text[], ${quantities}::int[], ${prices}::bigint[], ${totals}::bigint[])
             AS line(sku, quantity, unit_price_minor, line_total_minor)
    ), first_status AS (
      INSERT INTO order_status_history (order_id, status, reason, at) SELECT id, 'PENDING', 'accepted', ${order.createdAt}::timestamptz FROM new_order
    ), order_placed AS (${outboxInsert([outbox], sql`EXISTS (SELECT 1 FROM new_order)`)}
    )
    SELECT count(*)::int AS accepted_order FROM new_order`;
}

export interface AcceptCommand {
  order: OrderRows;
  outbox: OutboxRow;
  idempotency?: { claim: IdempotencyClaim; answer: { body: unknown; headers: Record<string, string> } };
}

/** Writes the order in one statement on `db` (outside any transaction); false when the Idempotency-Key was taken (nothing written). */
export async function writeAcceptedOrder(db: SqlExecutor, command: AcceptCommand): Promise<boolean> {
  const [result] = await db.rows<{ accepted_order: number }>(orderStatement(command.order, command.idempotency, command.outbox));
  return result?.accepted_order === 1;
}
