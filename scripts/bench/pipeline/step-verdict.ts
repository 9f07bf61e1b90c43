/**
 * When is a step of the staircase "sustained"? Pure functions, so the definitions are tested and written once:
 *
 * - a queue (consumer lag summed over the groups, or the outbox backlog) is FLAT when, over the second half of the
 *   load, it never exceeded the bound (max(minimum, arrivals per second x allowanceSeconds): at most that many
 *   seconds of arrivals queued), and it was back to zero within drainLimitSeconds after the load stopped. Arrivals
 *   are counted in the queue's own unit: deliveries for the lag (each record once per group that reads its topic:
 *   8 per order on the happy path), outbox rows for the backlog (4 per order), orders/s when unknown;
 * - a step is SUSTAINED when lag and backlog are flat, every request got a 2xx (no 4xx/5xx, no connection error
 *   or timeout), and every order placed in the step was terminal (CONFIRMED/CANCELLED) at the end of the drain;
 * - the SUSTAINED CAPACITY is the highest rate of the unbroken run of sustained steps from the bottom.
 */
export interface Sample {
  atMs: number;
  value: number;
}

export interface FlatnessOptions {
  /** Seconds of arrivals allowed in the queue. */
  allowanceSeconds: number;
  /** Floor of the bound, so a low rate is not failed by one batch in flight. */
  minimum: number;
  drainLimitSeconds: number;
}

export interface Flatness {
  flat: boolean;
  bound: number;
  /** What flowed into the queue per second during the load (the bound's scale). */
  arrivalsPerSecond: number;
  /** Highest value seen over the second half of the load. */
  maxSecondHalf: number | null;
  /** Highest value over the whole load. */
  max: number | null;
  /** Last value before the load stopped. */
  atEnd: number | null;
  /** Seconds from the end of the load until it was zero; null when it was not within the drain limit. */
  drainedAfterSeconds: number | null;
  reason: string | null;
}

export function queueBound(arrivalsPerSecond: number, options: Pick<FlatnessOptions, "allowanceSeconds" | "minimum">): number {
  return Math.max(options.minimum, Math.ceil(arrivalsPerSecond * options.allowanceSeconds));
}

function maxOf(samples: readonly Sample[]): number | null {
  return samples.length === 0 ? null : samples.reduce((max, s) => Math.max(max, s.value), -Infinity);
}

/** Flatness of one queue over [loadStartMs, loadEndMs]; drainedAtMs is when it was first seen at zero after the load. */
export function flatness(
  samples: readonly Sample[],
  window: { loadStartMs: number; loadEndMs: number; arrivalsPerSecond: number; drainedAtMs: number | null },
  options: FlatnessOptions,
): Flatness {
  // Rounded once, so the reported rate and the bound agree (the bound is computed from what the report shows).
  const arrivalsPerSecond = Math.round(window.arrivalsPerSecond * 10) / 10;
  const bound = queueBound(arrivalsPerSecond, options);
  const during = samples.filter((s) => s.atMs >= window.loadStartMs && s.atMs <= window.loadEndMs);
  const middle = window.loadStartMs + (window.loadEndMs - window.loadStartMs) / 2;
  const secondHalf = during.filter((s) => s.atMs >= middle);
  const maxSecondHalf = maxOf(secondHalf);
  const drainedAfterSeconds = window.drainedAtMs === null ? null : Math.max(0, (window.drainedAtMs - window.loadEndMs) / 1000);
  let reason: string | null = null;
  if (secondHalf.length === 0) reason = "no sample in the second half of the step";
  else if (maxSecondHalf! > bound) reason = `reached ${maxSecondHalf} (bound ${bound})`;
  else if (drainedAfterSeconds === null || drainedAfterSeconds > options.drainLimitSeconds)
    reason = `not back to 0 within ${options.drainLimitSeconds} s of the load stopping`;
  return {
    flat: reason === null,
    bound,
    arrivalsPerSecond,
    maxSecondHalf,
    max: maxOf(during),
    atEnd: during.length === 0 ? null : during[during.length - 1]!.value,
    drainedAfterSeconds: drainedAfterSeconds === null ? null : Math.round(drainedAfterSeconds * 10) / 10,
    reason,
  };
}

export interface StepFacts {
  non2xx: number;
  errors: number;
  lag: Flatness;
  backlog: Flatness;
  /** Orders of the step still PENDING after the drain. */
  pendingAfterDrain: number;
}

export interface StepVerdict {
  sustained: boolean;
  reasons: string[];
}

export function stepVerdict(facts: StepFacts): StepVerdict {
  const reasons: string[] = [];
  if (facts.non2xx > 0) reasons.push(`${facts.non2xx} non-2xx answers`);
  if (facts.errors > 0) reasons.push(`${facts.errors} connection errors or timeouts`);
  if (!facts.lag.flat) reasons.push(`consumer lag ${facts.lag.reason}`);
  if (!facts.backlog.flat) reasons.push(`outbox backlog ${facts.backlog.reason}`);
  if (facts.pendingAfterDrain > 0) reasons.push(`${facts.pendingAfterDrain} orders still PENDING after the drain`);
  return { sustained: reasons.length === 0, reasons };
}

/** Highest rate of the unbroken run of sustained steps from the lowest; null when the first step already broke. */
export function sustainedCapacity(steps: ReadonlyArray<{ rate: number; verdict: StepVerdict }>): number | null {
  let capacity: number | null = null;
  for (const step of steps) {
    if (!step.verdict.sustained) break;
    capacity = step.rate;
  }
  return capacity;
}

/** The baseline has no queues to watch: it is sustained while every answer is 2xx and p99 stays within slack x its chain. */
export function baselineVerdict(facts: { non2xx: number; errors: number; p99Ms: number | null; chainMs: number; slack: number }): StepVerdict {
  const reasons: string[] = [];
  if (facts.non2xx > 0) reasons.push(`${facts.non2xx} non-2xx answers`);
  if (facts.errors > 0) reasons.push(`${facts.errors} connection errors or timeouts`);
  const limit = facts.chainMs * facts.slack;
  if (facts.p99Ms === null || facts.p99Ms > limit) reasons.push(`p99 ${facts.p99Ms ?? "-"} ms above ${limit} ms (requests queue)`);
  return { sustained: reasons.length === 0, reasons };
}

/**
 * Arrivals per second of a counter that only grows (log end offsets summed), from the first to the last sample of
 * the load; `fallback` (the order rate) when fewer than two samples or no time passed between them.
 */
export function arrivalRate(samples: ReadonlyArray<{ atMs: number; total: number }>, fallback: number): number {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last || last.atMs <= first.atMs) return fallback;
  return Math.max(0, (last.total - first.total) / ((last.atMs - first.atMs) / 1000));
}
