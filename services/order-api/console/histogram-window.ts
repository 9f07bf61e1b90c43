/**
 * Quantiles of what a cumulative Prometheus histogram recorded between two readings: the bucket counts' difference,
 * interpolated linearly inside the bucket the quantile falls in (as PromQL's histogram_quantile does).
 */
export interface CumulativeBuckets {
  /** Upper bounds in seconds, ascending, the last one +Inf. */
  le: number[];
  /** Cumulative count per bound. */
  counts: number[];
}

/** Per-bound difference; a counter that went down (a reset) counts from zero. */
export function bucketDelta(previous: CumulativeBuckets | undefined, current: CumulativeBuckets): CumulativeBuckets {
  if (previous === undefined || previous.le.length !== current.le.length) return current;
  const counts = current.counts.map((count, i) => count - (previous.counts[i] ?? 0));
  return counts.some((count) => count < 0) ? current : { le: current.le, counts };
}

/** The q-quantile in seconds, or null when nothing was recorded. Beyond the last finite bound: that bound. */
export function histogramQuantile(buckets: CumulativeBuckets, q: number): number | null {
  const total = buckets.counts[buckets.counts.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (let i = 0; i < buckets.le.length; i += 1) {
    const upper = buckets.le[i]!;
    const count = buckets.counts[i]!;
    if (count >= rank) {
      if (upper === Number.POSITIVE_INFINITY) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket <= 0 ? upper : lowerBound + ((upper - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = upper === Number.POSITIVE_INFINITY ? lowerBound : upper;
    lowerCount = count;
  }
  return lowerBound;
}
