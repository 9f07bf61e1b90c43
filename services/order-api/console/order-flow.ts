import type { PrismaClient } from "../../shared/db/index.ts";

/** Orders placed, confirmed and cancelled in a window, and placed -> CONFIRMED of those confirmed in it. */
export interface OrderFlow {
  seconds: number;
  placed: number;
  confirmed: number;
  cancelled: number;
  confirmedP50Seconds: number | null;
  confirmedP99Seconds: number | null;
}

interface Row {
  placed: bigint;
  confirmed: bigint;
  cancelled: bigint;
  p50: number | null;
  p99: number | null;
}

/**
 * Counted from the outbox rows of OrderPlaced / OrderConfirmed / OrderCancelled (written in the same transaction as
 * the order and its transitions, with every API and order-state instance's): one range scan of the created_at
 * index, and a primary-key look-up per confirmed order for its placement time. order_status_history has no index on
 * its time alone, and an index written on the hot path for a chart is not worth it.
 */
export async function readOrderFlow(prisma: PrismaClient, from: Date, to: Date): Promise<OrderFlow> {
  const rows = await prisma.$queryRaw<Row[]>`
    SELECT count(*) FILTER (WHERE ob.event_type = 'OrderPlaced') AS placed,
           count(*) FILTER (WHERE ob.event_type = 'OrderConfirmed') AS confirmed,
           count(*) FILTER (WHERE ob.event_type = 'OrderCancelled') AS cancelled,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ob.created_at - o.created_at)::float8) FILTER (WHERE o.id IS NOT NULL) AS p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM ob.created_at - o.created_at)::float8) FILTER (WHERE o.id IS NOT NULL) AS p99
      FROM outbox ob
      LEFT JOIN orders o ON o.id = CASE WHEN ob.event_type = 'OrderConfirmed' THEN ob.key::uuid END
     WHERE ob.created_at > ${from} AND ob.created_at <= ${to}
       AND ob.event_type IN ('OrderPlaced', 'OrderConfirmed', 'OrderCancelled')`;
  const row = rows[0];
  return {
    seconds: Math.max(0, (to.getTime() - from.getTime()) / 1000),
    placed: Number(row?.placed ?? 0),
    confirmed: Number(row?.confirmed ?? 0),
    cancelled: Number(row?.cancelled ?? 0),
    confirmedP50Seconds: row?.p50 ?? null,
    confirmedP99Seconds: row?.p99 ?? null,
  };
}
