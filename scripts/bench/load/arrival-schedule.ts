/**
 * Open-loop arrivals at a constant rate: request i is due at start + i / rate, whatever happened to the earlier ones.
 * Latency is counted from that intended time, so a stall of the system (or of the generator) shows up as latency of
 * every request that should have gone out meanwhile instead of silently thinning the load (coordinated omission).
 */
export interface ArrivalSchedule {
  /** Requests per second. */
  rate: number;
  /** Total number of requests. */
  total: number;
}

export function scheduleFor(rate: number, seconds: number): ArrivalSchedule {
  if (!(rate > 0) || !(seconds > 0)) throw new Error(`rate and seconds must be positive (got ${rate}/s for ${seconds} s)`);
  return { rate, total: Math.max(1, Math.round(rate * seconds)) };
}

/** Offset of request i from the start, in ms. */
export function intendedOffsetMs(schedule: ArrivalSchedule, index: number): number {
  return (index * 1000) / schedule.rate;
}

/** How many requests are due `elapsedMs` after the start (request 0 is due at 0). */
export function dueCount(schedule: ArrivalSchedule, elapsedMs: number): number {
  if (elapsedMs < 0) return 0;
  // The epsilon keeps 1000 * i / rate from landing just below an integer through float error.
  return Math.min(schedule.total, Math.floor((elapsedMs * schedule.rate) / 1000 + 1e-9) + 1);
}

/** Delay until the next request after `sent` is due, or undefined when all are out. */
export function msUntilNext(schedule: ArrivalSchedule, sent: number, elapsedMs: number): number | undefined {
  if (sent >= schedule.total) return undefined;
  return Math.max(0, intendedOffsetMs(schedule, sent) - elapsedMs);
}
