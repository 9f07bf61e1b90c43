import type { Registry } from "prom-client";

/** A histogram kept by someone else: cumulative counts per upper bound (the last one +Inf), sum and count. */
export interface HistogramReading {
  buckets: ReadonlyArray<{ le: number; count: number }>;
  sumSeconds: number;
  count: number;
}

interface MetricValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

function le(bound: number): string {
  return bound === Number.POSITIVE_INFINITY ? "+Inf" : String(bound);
}

/**
 * Exposes a histogram that is recorded elsewhere (e.g. the relay's own RelayMetrics) as a Prometheus histogram,
 * read at scrape time, so the recorder needs no metrics library and is not recorded twice.
 */
export function registerSnapshotHistogram(registry: Registry, name: string, help: string, read: () => HistogramReading): void {
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    reset: () => undefined,
    get: async () => {
      const reading = read();
      const values: MetricValue[] = reading.buckets.map((bucket) => ({ metricName: `${name}_bucket`, labels: { le: le(bucket.le) }, value: bucket.count }));
      values.push({ metricName: `${name}_sum`, labels: {}, value: reading.sumSeconds }, { metricName: `${name}_count`, labels: {}, value: reading.count });
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
  };
  // prom-client's Registry accepts any object with this shape (its own metric classes are no different).
  registry.registerMetric(metric as unknown as Parameters<Registry["registerMetric"]>[0]);
}
