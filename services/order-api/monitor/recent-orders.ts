import type { PrismaClient } from "../../shared/db/index.ts";

export interface RecentOrder {
  orderId: string;
  status: string;
  customerId: string;
  totalMinor: number;
  currency: string;
  createdAt: string;
  updatedAt: string;
  /** Trace of the POST that placed it, from the traceparent stored on its OrderPlaced outbox row (null once retention removed it). */
  traceId: string | null;
}

export interface RecentOrders {
  generatedAt: string;
  /** Throughput over the last minute. */
  placedLastMinute: number;
  confirmedLastMinute: number;
  cancelledLastMinute: number;
  orders: RecentOrder[];
}

interface Row {
  id: string;
  status: string;
  customer_id: string;
  total_minor: bigint;
  currency: string;
  created_at: Date;
  updated_at: Date;
  traceparent: string | null;
}

/** "00-<trace id>-<span id>-<flags>" -> trace id, or null when absent or malformed. */
export function traceIdOf(traceparent: string | null): string | null {
  const match = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? "");
  return match?.[1] ?? null;
}

/**
 * The newest orders with their status and trace id. The OrderPlaced row is written in the order's transaction, so
 * it is found by key within seconds of the order's created_at (the created_at index; outbox has no index on key alone).
 */
export async function readRecentOrders(prisma: PrismaClient, limit: number): Promise<RecentOrders> {
  const rows = await prisma.$queryRaw<Row[]>`
    SELECT o.id::text AS id, o.status::text AS status, o.customer_id, o.total_minor, o.currency, o.created_at, o.updated_at,
           (SELECT ob.headers->>'traceparent' FROM outbox ob
             WHERE ob.created_at BETWEEN o.created_at - interval '5 seconds' AND o.created_at + interval '5 seconds'
               AND ob.key = o.id::text AND ob.event_type = 'OrderPlaced'
             ORDER BY ob.id LIMIT 1) AS traceparent
      FROM orders o ORDER BY o.created_at DESC, o.id DESC LIMIT ${limit}`;
  const counts = await prisma.$queryRaw<Array<{ placed: bigint; confirmed: bigint; cancelled: bigint }>>`
    SELECT (SELECT count(*) FROM orders WHERE created_at > now() - interval '1 minute') AS placed,
           count(*) FILTER (WHERE status = 'CONFIRMED') AS confirmed,
           count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled
      FROM order_status_history WHERE at > now() - interval '1 minute'`;
  return {
    generatedAt: new Date().toISOString(),
    placedLastMinute: Number(counts[0]?.placed ?? 0),
    confirmedLastMinute: Number(counts[0]?.confirmed ?? 0),
    cancelledLastMinute: Number(counts[0]?.cancelled ?? 0),
    orders: rows.map((row) => ({
      orderId: row.id,
      status: row.status,
      customerId: row.customer_id,
      totalMinor: Number(row.total_minor),
      currency: row.currency,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
      traceId: traceIdOf(row.traceparent),
    })),
  };
}
