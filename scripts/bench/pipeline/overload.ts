import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { LoadGenerator } from "../load/load-generator.ts";
import type { LoadJob, LoadResult } from "../load/open-loop.ts";

export interface OverloadOptions {
  /** Offered rate during the overload (by default twice the sustained capacity). */
  rate: number;
  seconds: number;
  /** A light load before (the reference latency) and after (the recovery) the overload. */
  probeRate: number;
  referenceSeconds: number;
  recoverySeconds: number;
  /** The recovered bound must hold from this many seconds after the load dropped at the latest. */
  recoveryLimitSeconds: number;
  /** Bound on the wait for every accepted order to be CONFIRMED or CANCELLED. */
  settleSeconds: number;
}

export interface OverloadResult {
  rate: number;
  seconds: number;
  probeRate: number;
  reference: LoadResult;
  overload: LoadResult;
  recovery: LoadResult;
  accepted: number;
  shed503: number;
  shed503WithoutRetryAfter: number;
  /** Answers that were neither 2xx nor 503 (a 4xx or another 5xx). */
  otherNon2xx: number;
  /** Requests with no answer within the generator's timeout, or a broken connection. */
  unanswered: number;
  /** Accepted (201 with a Location) but not in the orders table. */
  lost: number;
  /** Accepted and still PENDING once the settle bound ran out. */
  notTerminal: number;
  /** Seconds from the end of the overload's firing until every accepted order was terminal (null: not within the bound). */
  settledAfterSeconds: number | null;
  /** Per-second accept p99 of the recovery load must stay within this, from some second on. */
  recoveryBoundMs: number;
  /** Seconds from the end of the overload's firing until accept latency stayed within the bound (null: never). */
  recoveredAfterSeconds: number | null;
  verdict: { ok: boolean; reasons: string[] };
}

/** Twice the reference p99, and at least 50 ms above it: "normal latency" with room for the noise of one second. */
export function recoveryBound(referenceP99Ms: number | null): number {
  const p99 = referenceP99Ms ?? 0;
  return Math.round(Math.max(2 * p99, p99 + 50));
}

/**
 * The first second of `perSecondP99` from which every later second is within `boundMs`, plus `offsetSeconds` (the
 * recovery load starts after the overload's last answer); null when the last second is still above it.
 */
export function recoveredAfter(perSecondP99: ReadonlyArray<[number | null, number]>, boundMs: number, offsetSeconds: number): number | null {
  let first: number | null = null;
  perSecondP99.forEach(([p99, count], second) => {
    const within = count > 0 && p99 !== null && p99 <= boundMs;
    if (!within) first = null;
    else first ??= second;
  });
  return first === null ? null : Math.round((first + offsetSeconds) * 10) / 10;
}

export function overloadVerdict(result: Omit<OverloadResult, "verdict">, limitSeconds: number): OverloadResult["verdict"] {
  const reasons: string[] = [];
  if (result.unanswered > 0) reasons.push(`${result.unanswered} requests not answered within the timeout`);
  if (result.shed503WithoutRetryAfter > 0) reasons.push(`${result.shed503WithoutRetryAfter} x 503 without Retry-After`);
  if (result.otherNon2xx > 0) reasons.push(`${result.otherNon2xx} answers other than 201 or 503`);
  if (result.lost > 0) reasons.push(`${result.lost} accepted orders missing from the database`);
  if (result.notTerminal > 0) reasons.push(`${result.notTerminal} accepted orders still PENDING after the settle bound`);
  if (result.recoveredAfterSeconds === null) reasons.push(`accept p99 never back within ${result.recoveryBoundMs} ms`);
  else if (result.recoveredAfterSeconds > limitSeconds)
    reasons.push(`accept p99 back within ${result.recoveryBoundMs} ms only ${result.recoveredAfterSeconds} s after the load dropped (limit ${limitSeconds} s)`);
  return { ok: reasons.length === 0, reasons };
}

async function statusesOf(pool: pg.Pool, ids: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ id: string; status: string }>("SELECT id::text AS id, status::text AS status FROM orders WHERE id = ANY($1::uuid[])", [
    ids,
  ]);
  return new Map(rows.map((row) => [row.id, row.status]));
}

/** Waits (bounded) until no accepted order is PENDING; returns the statuses found last and when that happened. */
async function settle(pool: pg.Pool, ids: readonly string[], limitMs: number): Promise<{ statuses: Map<string, string>; settledAtMs: number | null }> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const statuses = await statusesOf(pool, ids);
    const pending = [...statuses.values()].filter((status) => status === "PENDING").length;
    if (pending === 0) return { statuses, settledAtMs: Date.now() };
    if (Date.now() > deadline) return { statuses, settledAtMs: null };
    await sleep(500);
  }
}

/**
 * Overload and recovery: a light reference load, then `rate` for `seconds` (more than the pipeline sustains), then
 * the light load again. Every request must be answered within the timeout with 201 or 503 + Retry-After, every
 * accepted order must reach the database and a terminal status, and accept latency must be back to normal within
 * `recoveryLimitSeconds` of the load dropping.
 */
export async function runOverload(
  generator: LoadGenerator,
  pool: pg.Pool,
  job: (rate: number, seconds: number) => LoadJob,
  options: OverloadOptions,
): Promise<OverloadResult> {
  const reference = await generator.run(job(options.probeRate, options.referenceSeconds));
  const overload = await generator.run({ ...job(options.rate, options.seconds), record: true });
  const answers = overload.answers!;
  // Watched while the light load runs, so the time until every accepted order is terminal is not rounded up to it.
  const settling = settle(pool, answers.acceptedIds, options.settleSeconds * 1000);
  const recovery = await generator.run({ ...job(options.probeRate, options.recoverySeconds), record: true });
  const loadDroppedAtMs = overload.startedAtMs + options.seconds * 1000;
  const { statuses, settledAtMs } = await settling;
  const recoveryBoundMs = recoveryBound(reference.latencyMs.p99);
  const partial = {
    rate: options.rate,
    seconds: options.seconds,
    probeRate: options.probeRate,
    reference,
    overload,
    recovery,
    accepted: answers.acceptedIds.length,
    shed503: answers.shed503,
    shed503WithoutRetryAfter: answers.shed503 - answers.shed503WithRetryAfter,
    otherNon2xx: overload.non2xx - answers.shed503,
    unanswered: overload.errors,
    lost: answers.acceptedIds.filter((id) => !statuses.has(id)).length,
    notTerminal: [...statuses.values()].filter((status) => status === "PENDING").length,
    settledAfterSeconds: settledAtMs === null ? null : Math.round((settledAtMs - loadDroppedAtMs) / 100) / 10,
    recoveryBoundMs,
    recoveredAfterSeconds: recoveredAfter(recovery.answers!.perSecondP99, recoveryBoundMs, (recovery.startedAtMs - loadDroppedAtMs) / 1000),
  };
  return { ...partial, verdict: overloadVerdict(partial, options.recoveryLimitSeconds) };
}
