/**
 * One sampler per API process: every CONSOLE_SAMPLE_INTERVAL_MS it reads the monitor's lag report (cached, the same
 * one /monitor/lag and the gauges use), the order flow of the last period from the outbox, and this process's
 * accept-latency histogram, and keeps the result in a bounded ring buffer that browsers receive on connect. Samples
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
   * The order-flow window ends this long before the sample: an outbox row's created_at is its transaction's start,
   * so a row of a transaction still open when the window closed would be missed.
   */
  settleMs?: number;
  now?: () => number;
  onError?: (error: unknown, source: string) => void;
}

export type ConsoleEvent = { type: "sample"; sample: ConsoleSample } | { type: "audit"; audit: AuditSummary | null };

const DEFAULT_SETTLE_MS = 2_000;

export class ConsoleSampler {
  private readonly ring: RingBuffer<ConsoleSample>;
  private readonly listeners = new Set<(event: ConsoleEvent) => void>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private flowCursor: number | undefined;
  private acceptSeen: CumulativeBuckets | undefined;
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
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  /** Takes one sample now (the loop calls this; tests too), records it and tells the listeners. */
  async sampleOnce(): Promise<ConsoleSample> {
    const t = this.now();
    const settle = this.options.settleMs ?? DEFAULT_SETTLE_MS;
    const to = t - settle;
    const from = this.flowCursor ?? to - this.options.intervalMs;
    const [report, flow, accept] = await Promise.all([
      this.read("kafka+database", () => this.sources.lagReport()),
      to > from ? this.read("order flow", () => this.sources.orderFlow(new Date(from), new Date(to))) : Promise.resolve(undefined),
      this.read("accept latency", () => this.sources.acceptBuckets()),
    ]);
    if (flow !== undefined) this.flowCursor = to;
    const acceptWindow = accept === undefined ? undefined : bucketDelta(this.acceptSeen, accept);
    if (accept !== undefined) this.acceptSeen = accept;
    const sample = buildSample({ t, report, flow, accept: acceptWindow });
    this.ring.push(sample);
    this.emit({ type: "sample", sample });
    if (this.samples % (this.options.auditEvery ?? 5) === 0) await this.refreshAudit();
    this.samples += 1;
    return sample;
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
      void this.sampleOnce().finally(() => this.schedule(Math.max(0, this.options.intervalMs - (this.now() - started))));
    }, delayMs);
    this.timer.unref();
  }
}
