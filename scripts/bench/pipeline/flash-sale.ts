import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { LoadGenerator } from "../load/load-generator.ts";
import type { LoadJob, LoadResult } from "../load/open-loop.ts";
import { pendingSince, readCompletion, type Completion } from "./completion-times.ts";

export interface FlashSaleOptions {
  sku: string;
  stock: number;
  rate: number;
  seconds: number;
  /** Bound on the wait for every flash-sale order to be decided. */
  settleSeconds: number;
}

export interface FlashSaleResult {
  sku: string;
  stock: number;
  rate: number;
  seconds: number;
  accept: LoadResult;
  completion: Completion;
  /** Units of the SKU in CONFIRMED orders: at most `stock`, or the sale oversold. */
  confirmedUnits: number;
  oversold: boolean;
  stockAfter: { available: number; reserved: number } | null;
  settledAfterSeconds: number | null;
}

/** Everyone wants the same SKU with little stock: the rejection path (reserve refused, order CANCELLED, payment voided). */
export async function runFlashSale(
  generator: LoadGenerator,
  pool: pg.Pool,
  job: (rate: number, seconds: number) => LoadJob,
  options: FlashSaleOptions,
): Promise<FlashSaleResult> {
  await pool.query("UPDATE stock SET available = $2, reserved = 0 WHERE sku = $1", [options.sku, options.stock]);
  const startMs = Date.now();
  const accept = await generator.run(job(options.rate, options.seconds));
  const loadEndMs = Date.now();
  const deadline = loadEndMs + options.settleSeconds * 1000;
  let settledAtMs: number | null = null;
  while (Date.now() < deadline) {
    if ((await pendingSince(pool, startMs)) === 0) {
      settledAtMs = Date.now();
      break;
    }
    await sleep(250);
  }
  const completion = await readCompletion(pool, startMs, Date.now() + 1);
  const { rows: units } = await pool.query<{ units: string | null }>(
    `SELECT sum(i.quantity)::text AS units FROM order_items i JOIN orders o ON o.id = i.order_id
      WHERE i.sku = $1 AND o.status = 'CONFIRMED' AND o.created_at >= $2`,
    [options.sku, new Date(startMs)],
  );
  const { rows: stock } = await pool.query<{ available: number; reserved: number }>("SELECT available, reserved FROM stock WHERE sku = $1", [options.sku]);
  const confirmedUnits = Number(units[0]?.units ?? 0);
  return {
    sku: options.sku,
    stock: options.stock,
    rate: options.rate,
    seconds: options.seconds,
    accept,
    completion,
    confirmedUnits,
    oversold: confirmedUnits > options.stock,
    stockAfter: stock[0] ?? null,
    settledAfterSeconds: settledAtMs === null ? null : Math.round((settledAtMs - loadEndMs) / 100) / 10,
  };
}
