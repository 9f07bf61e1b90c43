/** Percentiles of a set of latencies, nearest-rank (the value at rank ceil(q * n)): exact, no interpolation. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array; NaN for an empty one (no sample is not a zero latency). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (q <= 0) return sorted[0]!;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Summary of latencies in ms (any order; the input is not modified). */
export function summarizeLatencies(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  const n = sorted.length;
  return {
    count: n,
    p50: round(percentile(sorted, 0.5)),
    p90: round(percentile(sorted, 0.9)),
    p99: round(percentile(sorted, 0.99)),
    p999: round(percentile(sorted, 0.999)),
    max: round(n === 0 ? Number.NaN : sorted[n - 1]!),
    mean: round(n === 0 ? Number.NaN : sum / n),
  };
}

/** JSON has no NaN: "no sample" becomes null in the results file. */
export function jsonSafe(summary: LatencySummary): Record<keyof LatencySummary, number | null> {
  const out = {} as Record<keyof LatencySummary, number | null>;
  for (const [key, value] of Object.entries(summary) as Array<[keyof LatencySummary, number]>) out[key] = Number.isFinite(value) ? value : null;
  return out;
}
