/**
 * One sampler per API process: every CONSOLE_SAMPLE_INTERVAL_MS it reads the monitor's lag report (cached, the same
 * one /monitor/lag and the gauges use), the order flow of the trailing window from the outbox, and this process's
 * accept-latency histogram over the same window, and keeps the result in a bounded ring buffer that browsers receive on connect. Samples
 * never overlap (the next is scheduled when one ends) and the loop stops on close.
 */
import type { LagReport } from "../../shared/monitoring/lag-report.ts";
import type { AuditSummary } from "./audit-summary.ts";
import { buildSample, type ConsoleSample } from "./console-sample.ts";
import { bucketDelta, type CumulativeBuckets } from "./histogram-window.ts";
import type { OrderFlow } from "./order-flow.ts";
import { RingBuffer } from "./ring-buffer.ts";

export interface ConsoleSources {
  lagReport(): Promise<LagReport>;
  orderFlow(from: Date, to: Date): Promise<OrderFlow>;
  /** Cumulative POST /orders latency buckets of this process. */
  acceptBuckets(): Promise<CumulativeBuckets>;
  lastAudit(): Promise<AuditSummary | null>;
}

export interface SamplerOptions {
  intervalMs: number;
  historyMs: number;
  /** The audit table changes rarely: it is read once per this many samples. */
  auditEvery?: number;
  /**
   * Rates and percentiles cover the trailing window of this length, recounted at every sample: an outbox row's
   * created_at is its transaction's start, so a row that commits late (a busy database) is still counted by the
   * next samples instead of falling between two windows. The charts show a moving average over it.
   */
  windowMs?: number;
  now?: () => number;
  onError?: (error: unknown, source: string) => void;
}

export type ConsoleEvent = { type: "sample"; sample: ConsoleSample } | { type: "audit"; audit: AuditSummary | null };

const DEFAULT_WINDOW_MS = 10_000;

export class ConsoleSampler {
  private readonly ring: RingBuffer<ConsoleSample>;
  private readonly listeners = new Set<(event: ConsoleEvent) => void>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  /** Recent cumulative accept-latency readings, oldest first, to difference against the one a window ago. */
  private readonly acceptReadings: Array<{ t: number; buckets: CumulativeBuckets }> = [];
  private samples = 0;
  private audit: AuditSummary | null = null;
  private auditRead = false;

  constructor(
    private readonly sources: ConsoleSources,
    private readonly options: SamplerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.ring = new RingBuffer(Math.ceil(options.historyMs / options.intervalMs) + 1, options.historyMs);
  }

  get intervalMs(): number {
    return this.options.intervalMs;
  }

  get historyMs(): number {
    return this.options.historyMs;
  }

  history(): ConsoleSample[] {
    return this.ring.snapshot(this.now());
  }

  lastAudit(): AuditSummary | null {
    return this.audit;
  }

  subscribe(listener: (event: ConsoleEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    // The first sample after one period, not at once: the app's start is busy enough.
    this.schedule(this.options.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  /** Takes one sample now (the loop calls this; tests too), records it and tells the listeners. */
  async sampleOnce(): Promise<ConsoleSample> {
    const t = this.now();
    const windowMs = this.options.windowMs ?? Math.max(DEFAULT_WINDOW_MS, this.options.intervalMs);
    const [report, flow, accept] = await Promise.all([
      this.read("kafka+database", () => this.sources.lagReport()),
      this.read("order flow", () => this.sources.orderFlow(new Date(t - windowMs), new Date(t))),
      this.read("accept latency", () => this.sources.acceptBuckets()),
    ]);
    const acceptWindow = accept === undefined ? undefined : this.acceptSince(t, windowMs, accept);
    const sample = buildSample({ t, report, flow, accept: acceptWindow });
    this.ring.push(sample);
    this.emit({ type: "sample", sample });
    if (this.samples % (this.options.auditEvery ?? 5) === 0) await this.refreshAudit();
    this.samples += 1;
    return sample;
  }

  /** What the histogram recorded over the trailing window (nothing known at the first reading). */
  private acceptSince(t: number, windowMs: number, buckets: CumulativeBuckets): CumulativeBuckets {
    // Keep the newest reading at or before the window's start as the base.
    while (this.acceptReadings.length > 1 && t - this.acceptReadings[1]!.t >= windowMs) this.acceptReadings.shift();
    const base = this.acceptReadings[0]?.buckets;
    this.acceptReadings.push({ t, buckets });
    // The first reading has no base: what it holds happened at any time since the process started.
    return base === undefined ? { le: buckets.le, counts: buckets.counts.map(() => 0) } : bucketDelta(base, buckets);
  }

  private async refreshAudit(): Promise<void> {
    const audit = await this.read("audit_runs", () => this.sources.lastAudit());
    if (audit === undefined) return;
    const changed = !this.auditRead || audit?.id !== this.audit?.id;
    this.audit = audit;
    this.auditRead = true;
    if (changed) this.emit({ type: "audit", audit });
  }

  private async read<T>(source: string, read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      this.options.onError?.(error, source);
      return undefined;
    }
  }

  private emit(event: ConsoleEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = this.now();
      // Each source's failure is already a gap; this catches a failure of the sampler itself (a malformed report).
      void this.sampleOnce()
        .catch((error: unknown) => this.options.onError?.(error, "sample"))
        .finally(() => this.schedule(Math.max(0, this.options.intervalMs - (this.now() - started))));
    }, delayMs);
    this.timer.unref();
  }
}
