/** Upper bounds (seconds) of the created->acked latency histogram, Prometheus style (cumulative, plus +Inf). */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

export interface HistogramSnapshot {
  /** Cumulative counts per upper bound; the last entry is +Inf (= count). */
  buckets: Array<{ le: number; count: number }>;
  sumSeconds: number;
  count: number;
}

export interface RelayMetricsSnapshot {
  backlog: number;
  failedRows: number;
  oldestUnpublishedAgeSeconds: number;
  publishedTotal: number;
  /** Rows acked per second over the last rate window. */
  publishRatePerSecond: number;
  ownedShards: number;
  createdToAckedSeconds: HistogramSnapshot;
}

const RATE_WINDOW_MS = 10_000;
const RESERVOIR_SIZE = 10_000;

/**
 * The relay's numbers, as plain getters (no metrics library): issue 6 maps them to Prometheus. Backlog figures are
 * refreshed from the database by the relay; the rest is recorded as rows are acked.
 */
export class RelayMetrics {
  backlog = 0;
  failedRows = 0;
  ownedShards = 0;
  private oldestUnpublishedAt: Date | null = null;
  private publishedTotal = 0;
  private readonly bucketCounts = new Array<number>(LATENCY_BUCKETS_SECONDS.length + 1).fill(0);
  private latencySumSeconds = 0;
  private latencyCount = 0;
  /** Recent latencies for quantiles (bench, logs); a ring buffer so memory stays bounded. */
  private readonly reservoir: number[] = [];
  private reservoirNext = 0;
  /** [timestampMs, rows] of recent acks, for the publish rate. */
  private readonly acks: Array<[number, number]> = [];

  constructor(private readonly now: () => number = Date.now) {}

  setBacklog(backlog: number, failed: number, oldestUnpublishedAt: Date | null): void {
    this.backlog = backlog;
    this.failedRows = failed;
    this.oldestUnpublishedAt = oldestUnpublishedAt;
  }

  /** Records acked rows by their created_at. */
  recordAcked(createdAts: readonly Date[]): void {
    const now = this.now();
    this.publishedTotal += createdAts.length;
    this.acks.push([now, createdAts.length]);
    for (const createdAt of createdAts) this.observeLatency(Math.max(0, (now - createdAt.getTime()) / 1000));
  }

  private observeLatency(seconds: number): void {
    const index = LATENCY_BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
    this.bucketCounts[index === -1 ? LATENCY_BUCKETS_SECONDS.length : index]! += 1;
    this.latencySumSeconds += seconds;
    this.latencyCount += 1;
    if (this.reservoir.length < RESERVOIR_SIZE) this.reservoir.push(seconds);
    else this.reservoir[this.reservoirNext] = seconds;
    this.reservoirNext = (this.reservoirNext + 1) % RESERVOIR_SIZE;
  }

  get oldestUnpublishedAgeSeconds(): number {
    return this.oldestUnpublishedAt === null ? 0 : Math.max(0, (this.now() - this.oldestUnpublishedAt.getTime()) / 1000);
  }

  get published(): number {
    return this.publishedTotal;
  }

  get publishRatePerSecond(): number {
    const since = this.now() - RATE_WINDOW_MS;
    while (this.acks.length > 0 && this.acks[0]![0] < since) this.acks.shift();
    return this.acks.reduce((sum, [, rows]) => sum + rows, 0) / (RATE_WINDOW_MS / 1000);
  }

  /** Quantile (0..1) of the recent created->acked latencies in seconds, or 0 without samples. */
  latencyQuantile(q: number): number {
    if (this.reservoir.length === 0) return 0;
    const sorted = [...this.reservoir].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  }

  get createdToAcked(): HistogramSnapshot {
    let cumulative = 0;
    const buckets = [...LATENCY_BUCKETS_SECONDS, Number.POSITIVE_INFINITY].map((le, index) => {
      cumulative += this.bucketCounts[index]!;
      return { le, count: cumulative };
    });
    return { buckets, sumSeconds: this.latencySumSeconds, count: this.latencyCount };
  }

  snapshot(): RelayMetricsSnapshot {
    return {
      backlog: this.backlog,
      failedRows: this.failedRows,
      oldestUnpublishedAgeSeconds: this.oldestUnpublishedAgeSeconds,
      publishedTotal: this.publishedTotal,
      publishRatePerSecond: this.publishRatePerSecond,
      ownedShards: this.ownedShards,
      createdToAckedSeconds: this.createdToAcked,
    };
  }
}
