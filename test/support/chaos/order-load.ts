/**
 * Open-loop order load for the chaos tier: POST /orders at a fixed rate for a fixed time, each request fired at its
 * scheduled instant whether or not earlier ones were answered (a closed loop would slow down with the fault and
 * hide it). Bounded: at most MAX_RATE per second for MAX_SECONDS, 127.0.0.1 only. Keeps the id of every order the
 * API accepted (201), so the scenario can check each one afterwards.
 */
import { randomUUID } from "node:crypto";

const MAX_RATE = 100;
const MAX_SECONDS = 300;
const REQUEST_TIMEOUT_MS = 10_000;

export interface OrderBody {
  customerId: string;
  currency: string;
  items: Array<{ sku: string; quantity: number }>;
}

export interface LoadOptions {
  /** Orders per second. */
  rate: number;
  seconds: number;
  /** The i-th order's body. */
  body: (index: number) => OrderBody;
}

export interface LoadResult {
  offered: number;
  /** Ids of the orders answered 201. */
  accepted: string[];
  /** Answers other than 201, by status. */
  refused: Record<string, number>;
  /** No answer (connection refused or reset, or REQUEST_TIMEOUT_MS passed): the order may or may not exist. */
  unanswered: number;
  /** Accept latency (fire to answer) of the 201s, ms. */
  acceptP50Ms: number | null;
  acceptP99Ms: number | null;
}

export interface LoadRun {
  /** Live counts while the load runs. */
  readonly progress: { offered: number; accepted: number };
  readonly done: Promise<LoadResult>;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function placeOne(baseUrl: string, body: OrderBody): Promise<{ status: number | "none"; orderId?: string }> {
  try {
    const response = await fetch(`${baseUrl}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": randomUUID() },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (response.status !== 201) return { status: response.status };
    return { status: 201, orderId: (JSON.parse(text) as { orderId: string }).orderId };
  } catch {
    return { status: "none" };
  }
}

/** Starts the load now; `done` resolves once every request was answered or timed out. */
export function openLoopLoad(baseUrl: string, options: LoadOptions): LoadRun {
  if (!/^http:\/\/127\.0\.0\.1:/.test(baseUrl)) throw new Error(`chaos load goes to 127.0.0.1 only, not ${baseUrl}`);
  const rate = Math.min(options.rate, MAX_RATE);
  const total = Math.round(rate * Math.min(options.seconds, MAX_SECONDS));
  const progress = { offered: 0, accepted: 0 };
  const accepted: string[] = [];
  const latencies: number[] = [];
  const refused: Record<string, number> = {};
  let unanswered = 0;
  const done = (async () => {
    const start = Date.now();
    const inFlight: Array<Promise<void>> = [];
    for (let index = 0; index < total; index += 1) {
      const wait = start + (index * 1000) / rate - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      progress.offered += 1;
      const firedAt = Date.now();
      inFlight.push(
        placeOne(baseUrl, options.body(index)).then(({ status, orderId }) => {
          if (orderId) {
            accepted.push(orderId);
            progress.accepted += 1;
            latencies.push(Date.now() - firedAt);
          } else if (status === "none") unanswered += 1;
          else refused[String(status)] = (refused[String(status)] ?? 0) + 1;
        }),
      );
    }
    await Promise.all(inFlight);
    latencies.sort((a, b) => a - b);
    return { offered: total, accepted, refused, unanswered, acceptP50Ms: percentile(latencies, 50), acceptP99Ms: percentile(latencies, 99) };
  })();
  return { progress, done };
}
