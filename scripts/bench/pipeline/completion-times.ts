import type pg from "pg";
import { jsonSafe, summarizeLatencies } from "../load/latency-summary.ts";

export interface Completion {
  placed: number;
  confirmed: number;
  cancelled: number;
  pending: number;
  /** orders.created_at (the accept transaction) -> the CONFIRMED status history row (orders.updated_at without one). */
  placedToConfirmedMs: ReturnType<typeof jsonSafe>;
  placedToCancelledMs: ReturnType<typeof jsonSafe>;
  /** Orders that reached CONFIRMED per second, from the first placed to the last confirmed. */
  confirmedPerSecond: number | null;
}

/** Orders placed in [fromMs, toMs) (the window of one step; the benchmark's database holds nothing else). */
export async function readCompletion(pool: pg.Pool, fromMs: number, toMs: number): Promise<Completion> {
  const { rows } = await pool.query<{ status: string; ms: number | null; created: Date; done: Date | null }>(
    `SELECT o.status::text AS status, o.created_at AS created,
            CASE WHEN o.status = 'PENDING' THEN NULL ELSE coalesce(h.at, o.updated_at) END AS done,
            CASE WHEN o.status = 'PENDING' THEN NULL
                 ELSE extract(epoch FROM coalesce(h.at, o.updated_at) - o.created_at)::float8 * 1000 END AS ms
       FROM orders o
       LEFT JOIN LATERAL (SELECT max(at) AS at FROM order_status_history WHERE order_id = o.id AND status = o.status) h ON true
      WHERE o.created_at >= $1 AND o.created_at < $2`,
    [new Date(fromMs), new Date(toMs)],
  );
  const confirmed = rows.filter((row) => row.status === "CONFIRMED");
  const cancelled = rows.filter((row) => row.status === "CANCELLED");
  // Loops, not Math.min(...rows): tens of thousands of arguments would overflow the stack.
  let firstPlaced = Infinity;
  for (const row of rows) firstPlaced = Math.min(firstPlaced, row.created.getTime());
  let lastConfirmed = -Infinity;
  for (const row of confirmed) lastConfirmed = Math.max(lastConfirmed, row.done!.getTime());
  const span = (lastConfirmed - firstPlaced) / 1000;
  return {
    placed: rows.length,
    confirmed: confirmed.length,
    cancelled: cancelled.length,
    pending: rows.length - confirmed.length - cancelled.length,
    placedToConfirmedMs: jsonSafe(summarizeLatencies(confirmed.map((row) => row.ms!))),
    placedToCancelledMs: jsonSafe(summarizeLatencies(cancelled.map((row) => row.ms!))),
    confirmedPerSecond: confirmed.length > 0 && span > 0 ? Math.round((confirmed.length / span) * 10) / 10 : null,
  };
}

/** Orders placed since fromMs that are still PENDING (the drain waits for zero). */
export async function pendingSince(pool: pg.Pool, fromMs: number): Promise<number> {
  const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM orders WHERE status = 'PENDING' AND created_at >= $1", [new Date(fromMs)]);
  return Number(rows[0]?.n ?? 0);
}
