import type { PrismaClient } from "../db/index.ts";

export interface OutboxBacklog {
  /** Rows not yet published and not given up on. */
  unpublishedRows: number;
  /** Age of the oldest of those rows, 0 when there is none. */
  oldestAgeSeconds: number;
  /** Rows the relay gave up on (failed_at set): they hold back their order until replayed. */
  failedRows: number;
}

export interface StuckOrder {
  orderId: string;
  createdAt: string;
  ageSeconds: number;
}

export interface StuckOrders {
  thresholdSeconds: number;
  count: number;
  /** The oldest ones, at most `limit`. */
  oldest: StuckOrder[];
}

/** Same definition as the relay's own backlog gauge (services/outbox-relay/relay-sql.ts readBacklog). */
export async function readOutboxBacklog(prisma: PrismaClient): Promise<OutboxBacklog> {
  const rows = await prisma.$queryRaw<Array<{ backlog: bigint; failed: bigint; age: number | null }>>`
    SELECT count(*) FILTER (WHERE failed_at IS NULL) AS backlog,
           count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed,
           extract(epoch FROM clock_timestamp() - min(created_at) FILTER (WHERE failed_at IS NULL))::float8 AS age
      FROM outbox WHERE published_at IS NULL`;
  const row = rows[0];
  return { unpublishedRows: Number(row?.backlog ?? 0), failedRows: Number(row?.failed ?? 0), oldestAgeSeconds: Math.max(0, row?.age ?? 0) };
}

/** Orders still PENDING after the threshold: accepted but not finished, the "nothing stuck silently" check. */
export async function readStuckOrders(prisma: PrismaClient, thresholdSeconds: number, limit: number): Promise<StuckOrders> {
  const cutoff = new Date(Date.now() - thresholdSeconds * 1000);
  const where = { status: "PENDING" as const, createdAt: { lt: cutoff } };
  const [count, oldest] = await Promise.all([
    prisma.order.count({ where }),
    prisma.order.findMany({ where, orderBy: { createdAt: "asc" }, take: limit, select: { id: true, createdAt: true } }),
  ]);
  const now = Date.now();
  return {
    thresholdSeconds,
    count,
    oldest: oldest.map((order) => ({
      orderId: order.id,
      createdAt: order.createdAt.toISOString(),
      ageSeconds: Math.round((now - order.createdAt.getTime()) / 100) / 10,
    })),
  };
}
