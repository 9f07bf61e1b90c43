import type { Prisma, PrismaClient } from "../../shared/db/index.ts";
import { sql, type SqlExecutor } from "../../shared/db/sql.ts";
import { OrderNotFoundError } from "../order-errors.ts";
import type { ListOrdersQuery, ShippingAddressInput } from "../routes/order-schemas.ts";
import { decodeCursor, encodeCursor } from "./order-cursor.ts";
import { timestampParameter } from "./order-timestamps.ts";
import { toOrderSummary, type OrderDetailView, type OrderStatus, type OrderSummaryView } from "./order-view.ts";

const summarySelect = { id: true, customerId: true, status: true, currency: true, totalMinor: true, createdAt: true, updatedAt: true } as const;

interface OrderDetailRow {
  id: string;
  customer_id: string;
  status: OrderStatus;
  currency: string;
  total_minor: string;
  shipping_address: ShippingAddressInput | null;
  cancel_reason: string | null;
  created_at: Date;
  updated_at: Date;
  items: { sku: string; quantity: number; unitPriceMinor: number; lineTotalMinor: number }[];
  history: { status: OrderStatus; reason: string | null; at: string }[];
}

/** One order with its lines and history in one statement (the read behind GET /orders/{id} and Prefer: wait). */
export async function getOrder(db: SqlExecutor, orderId: string): Promise<OrderDetailView> {
  const [row] = await db.rows<OrderDetailRow>(sql`
    SELECT o.id, o.customer_id, o.status::text AS status, o.currency, o.total_minor, o.shipping_address, o.cancel_reason, o.created_at, o.updated_at,
           COALESCE((SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity, 'unitPriceMinor', i.unit_price_minor,
                                                       'lineTotalMinor', i.line_total_minor) ORDER BY i.sku)
                       FROM order_items i WHERE i.order_id = o.id), '[]'::json) AS items,
           COALESCE((SELECT json_agg(json_build_object('status', h.status, 'reason', h.reason, 'at', h.at) ORDER BY h.at, h.id)
                       FROM order_status_history h WHERE h.order_id = o.id), '[]'::json) AS history
      FROM orders o WHERE o.id = ${orderId}::uuid`);
  if (!row) throw new OrderNotFoundError({ detail: `No order ${orderId}`, context: { orderId } });
  return {
    orderId: row.id,
    customerId: row.customer_id,
    status: row.status,
    currency: row.currency,
    totalMinor: Number(row.total_minor),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    shippingAddress: row.shipping_address,
    cancelReason: row.cancel_reason,
    items: row.items,
    statusHistory: row.history.map((entry) => ({ status: entry.status, reason: entry.reason, at: new Date(entry.at).toISOString() })),
  };
}

/** Current status of each of `orderIds` that exists (one statement for any number of waiters). */
export async function readStatuses(db: SqlExecutor, orderIds: readonly string[]): Promise<Map<string, string>> {
  const rows = await db.rows<{ id: string; status: string }>(
    sql`SELECT id::text AS id, status::text AS status FROM orders WHERE id = ANY(${orderIds}::uuid[])`,
  );
  return new Map(rows.map((row) => [row.id, row.status]));
}

export interface OrderPage {
  items: OrderSummaryView[];
  nextCursor: string | null;
}

function listFilter(query: ListOrdersQuery): Prisma.OrderWhereInput {
  const where: Prisma.OrderWhereInput[] = [];
  if (query.customerId !== undefined) where.push({ customerId: query.customerId });
  if (query.status !== undefined) where.push({ status: query.status });
  if (query.createdFrom !== undefined) where.push({ createdAt: { gte: timestampParameter("createdFrom", query.createdFrom) } });
  if (query.createdTo !== undefined) where.push({ createdAt: { lt: timestampParameter("createdTo", query.createdTo) } });
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    // Keyset pagination: stable under concurrent inserts, and an index range scan however deep the page.
    where.push({ OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] });
  }
  return { AND: where };
}

/** Newest first; one extra row tells whether another page exists. */
export async function listOrders(prisma: PrismaClient, query: ListOrdersQuery): Promise<OrderPage> {
  const rows = await prisma.order.findMany({
    where: listFilter(query),
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit + 1,
    select: summarySelect,
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor = rows.length > query.limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null;
  return { items: page.map(toOrderSummary), nextCursor };
}
