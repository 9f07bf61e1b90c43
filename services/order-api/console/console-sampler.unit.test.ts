import { describe, expect, it } from "vitest";
import type { LagReport } from "../../shared/monitoring/lag-report.ts";
import { summariseVerdict, type AuditSummary } from "./audit-summary.ts";
import { buildSample } from "./console-sample.ts";
import { ConsoleSampler, type ConsoleEvent, type ConsoleSources } from "./console-sampler.ts";
import { sseFrame } from "./event-streams.ts";
import { bucketDelta, histogramQuantile } from "./histogram-window.ts";
import type { OrderFlow } from "./order-flow.ts";
import { RingBuffer } from "./ring-buffer.ts";

const INF = Number.POSITIVE_INFINITY;

function report(overrides: Partial<LagReport> = {}): LagReport {
  return {
    generatedAt: new Date(0).toISOString(),
    groups: [
      { group: "inventory", groupId: "inventory", state: "Stable", members: 1, totalLag: 7, partitions: [] },
      { group: "payment", groupId: "payment", state: "Stable", members: 1, totalLag: 0, partitions: [] },
    ] as unknown as LagReport["groups"],
    totalLag: 7,
    outbox: { unpublishedRows: 12, oldestAgeSeconds: 1.234, failedRows: 0 },
    deadLetters: [
      { topic: "dlq.inventory", depth: 2 },
      { topic: "dlq.payment", depth: 1 },
    ],
    stuckOrders: { thresholdSeconds: 60, count: 3, oldest: [] },
    errors: [],
    ...overrides,
  };
}

const flow = (overrides: Partial<OrderFlow> = {}): OrderFlow => ({
  seconds: 2,
  placed: 10,
  confirmed: 6,
  cancelled: 1,
  confirmedP50Seconds: 0.25,
  confirmedP99Seconds: 0.9,
  ...overrides,
});

describe("ring buffer", () => {
  it("keeps the newest `capacity` items oldest first, overwriting in place", () => {
    const ring = new RingBuffer<{ t: number }>(3, 1_000_000);
    for (let t = 1; t <= 5; t += 1) ring.push({ t });
    expect(ring.length).toBe(3);
    expect(ring.snapshot().map((s) => s.t)).toEqual([3, 4, 5]);
    expect(ring.newest()?.t).toBe(5);
  });

  it("leaves out what is older than its window", () => {
    const ring = new RingBuffer<{ t: number }>(10, 100);
    for (const t of [0, 50, 120, 200]) ring.push({ t });
    expect(ring.snapshot(200).map((s) => s.t)).toEqual([120, 200]);
    expect(ring.snapshot(1_000)).toEqual([]);
    expect(() => new RingBuffer(0, 1)).toThrow(RangeError);
  });
});

describe("histogram window", () => {
  const le = [0.001, 0.01, 0.1, INF];

  it("interpolates the quantile inside its bucket, as histogram_quantile does", () => {
    // 100 observations: 50 at or below 1 ms, 40 in (1, 10] ms, 10 in (10, 100] ms.
    const buckets = { le, counts: [50, 90, 100, 100] };
    expect(histogramQuantile(buckets, 0.5)).toBeCloseTo(0.001);
    expect(histogramQuantile(buckets, 0.7)).toBeCloseTo(0.001 + 0.009 * (20 / 40));
    expect(histogramQuantile(buckets, 0.99)).toBeCloseTo(0.01 + 0.09 * 0.9);
    expect(histogramQuantile({ le, counts: [0, 0, 0, 0] }, 0.99)).toBeNull();
    // Beyond the last finite bound: that bound (nothing better is known).
    expect(histogramQuantile({ le, counts: [0, 0, 0, 5] }, 0.99)).toBe(0.1);
  });

  it("differences two cumulative readings, and starts over after a reset", () => {
    expect(bucketDelta({ le, counts: [1, 2, 3, 3] }, { le, counts: [4, 6, 9, 10] }).counts).toEqual([3, 4, 6, 7]);
    expect(bucketDelta(undefined, { le, counts: [1, 1, 1, 1] }).counts).toEqual([1, 1, 1, 1]);
    expect(bucketDelta({ le, counts: [9, 9, 9, 9] }, { le, counts: [1, 1, 1, 1] }).counts).toEqual([1, 1, 1, 1]);
  });
});

describe("console sample", () => {
  it("turns a lag report, an order-flow window and accept latencies into one point", () => {
    const sample = buildSample({ t: 5, report: report(), flow: flow(), accept: { le: [0.001, 0.01, INF], counts: [0, 100, 100] } });
    expect(sample).toMatchObject({
      t: 5,
      placedPerSecond: 5,
      confirmedPerSecond: 3,
      cancelledPerSecond: 0.5,
      confirmedP50Ms: 250,
      confirmedP99Ms: 900,
      lag: { inventory: 7, payment: 0, "order-state": null, notification: null },
      outboxBacklog: 12,
      outboxOldestAgeSeconds: 1.23,
      deadLetters: 3,
      stuckOrders: 3,
    });
    expect(sample.acceptP99Ms).toBeCloseTo(9.91, 1);
  });

  it("leaves a gap (null), never a zero, for a source that did not answer", () => {
    const kafkaDown = buildSample({ t: 1, report: report({ errors: [{ source: "kafka", message: "down" }] }), flow: undefined, accept: undefined });
    expect(kafkaDown).toMatchObject({
      lag: { inventory: null, payment: null },
      deadLetters: null,
      outboxBacklog: 12,
      placedPerSecond: null,
      acceptP99Ms: null,
    });
    const nothing = buildSample({ t: 1, report: undefined, flow: undefined, accept: undefined });
    expect(nothing).toMatchObject({ outboxBacklog: null, stuckOrders: null, deadLetters: null });
  });
});

describe("console sampler", () => {
  function fakeSources(now: () => number) {
    const windows: Array<[number, number]> = [];
    let acceptCounts = [0, 0, 0];
    let audit: AuditSummary | null = null;
    const sources: ConsoleSources = {
      lagReport: async () => report(),
      orderFlow: async (from, to) => {
        windows.push([from.getTime(), to.getTime()]);
        return flow({ seconds: (to.getTime() - from.getTime()) / 1000 });
      },
      acceptBuckets: async () => ({ le: [0.001, 0.01, INF], counts: acceptCounts }),
      lastAudit: async () => audit,
    };
    return {
      sources,
      windows,
      setAccept: (counts: number[]) => (acceptCounts = counts),
      setAudit: (value: AuditSummary | null) => (audit = value),
      now,
    };
  }

  it("recounts the trailing window at every sample (a late commit still counts), and accept latency over the same window", async () => {
    let now = 100_000;
    const fake = fakeSources(() => now);
    const sampler = new ConsoleSampler(fake.sources, { intervalMs: 2_000, historyMs: 60_000, windowMs: 4_000, now: () => now });
    fake.setAccept([10, 10, 10]);
    const first = await sampler.sampleOnce();
    expect(first.acceptP99Ms).toBeNull(); // no base yet: those 10 happened at any time since start
    now += 2_000;
    fake.setAccept([10, 20, 20]);
    const second = await sampler.sampleOnce();
    expect(fake.windows).toEqual([
      [96_000, 100_000],
      [98_000, 102_000],
    ]);
    // The 10 requests since the first reading, all in (1, 10] ms.
    expect(second.acceptP99Ms).toBeCloseTo(9.91, 1);
    now += 2_000;
    fake.setAccept([10, 20, 20]);
    expect((await sampler.sampleOnce()).acceptP99Ms).toBeCloseTo(9.91, 1); // still within 4 s of the first reading
    now += 2_000;
    expect((await sampler.sampleOnce()).acceptP99Ms).toBeNull(); // the window has slid past them
    expect(second.placedPerSecond).toBe(2.5); // 10 placed over a 4 s window
  });

  it("keeps a bounded history of its window and pushes each sample and each new audit verdict to listeners", async () => {
    let now = 0;
    const fake = fakeSources(() => now);
    const sampler = new ConsoleSampler(fake.sources, { intervalMs: 1_000, historyMs: 5_000, auditEvery: 2, now: () => now });
    const events: ConsoleEvent[] = [];
    const unsubscribe = sampler.subscribe((event) => events.push(event));
    for (let i = 0; i < 20; i += 1) {
      if (i === 3) fake.setAudit({ id: "1", startedAt: "", finishedAt: "", ok: true, violations: 0, notices: 0, checks: [] });
      await sampler.sampleOnce();
      now += 1_000;
    }
    const history = sampler.history();
    expect(history.length).toBeLessThanOrEqual(6);
    expect(history.at(-1)?.t).toBe(19_000);
    expect(history[0]!.t).toBeGreaterThanOrEqual(14_000);
    expect(events.filter((e) => e.type === "sample")).toHaveLength(20);
    // The first read (none recorded) and the change to run 1; unchanged reads send nothing.
    expect(events.filter((e) => e.type === "audit").map((e) => (e.type === "audit" ? (e.audit?.id ?? null) : undefined))).toEqual([null, "1"]);
    unsubscribe();
    await sampler.sampleOnce();
    expect(events.filter((e) => e.type === "sample")).toHaveLength(20);
  });

  it("records a sample with gaps when a source throws, and reports the source", async () => {
    const errors: string[] = [];
    const sampler = new ConsoleSampler(
      {
        lagReport: async () => Promise.reject(new Error("kafka down")),
        orderFlow: async () => flow(),
        acceptBuckets: async () => ({ le: [INF], counts: [0] }),
        lastAudit: async () => null,
      },
      { intervalMs: 1_000, historyMs: 60_000, onError: (_error, source) => errors.push(source) },
    );
    const sample = await sampler.sampleOnce();
    expect(sample.outboxBacklog).toBeNull();
    expect(sample.placedPerSecond).not.toBeNull();
    expect(errors).toEqual(["kafka+database"]);
  });

  it("keeps running when a sample itself fails, reporting it", async () => {
    const errors: string[] = [];
    let calls = 0;
    const malformed = async () => {
      calls += 1;
      return { groups: [], deadLetters: [], errors: [] } as unknown as LagReport; // no outbox: buildSample throws
    };
    const sampler = new ConsoleSampler(
      { lagReport: malformed, orderFlow: async () => flow(), acceptBuckets: async () => ({ le: [INF], counts: [0] }), lastAudit: async () => null },
      { intervalMs: 5, historyMs: 60_000, onError: (_e, source) => errors.push(source) },
    );
    sampler.start();
    const deadline = Date.now() + 5_000;
    while (calls < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    sampler.stop();
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(errors.filter((source) => source === "sample").length).toBeGreaterThanOrEqual(2);
  });

  it("runs on a timer until stopped, never two samples at once", async () => {
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const slow = async () => {
      running += 1;
      calls += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 30));
      running -= 1;
      return report();
    };
    const sampler = new ConsoleSampler(
      { lagReport: slow, orderFlow: async () => flow(), acceptBuckets: async () => ({ le: [INF], counts: [0] }), lastAudit: async () => null },
      { intervalMs: 10, historyMs: 60_000 },
    );
    sampler.start();
    const deadline = Date.now() + 5_000;
    while (calls < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    sampler.stop();
    const stoppedAt = calls;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stoppedAt).toBeGreaterThanOrEqual(4);
    expect(maxRunning).toBe(1);
    expect(calls - stoppedAt).toBeLessThanOrEqual(1); // at most the one in flight when stop() came
  });
});

describe("audit summary and SSE frames", () => {
  it("reads the recorded verdict defensively", () => {
    const row = {
      id: 7n,
      startedAt: new Date(1_000),
      finishedAt: new Date(2_000),
      ok: false,
      violations: 2,
      verdict: { notices: 1, checks: [{ code: "ORDER_STUCK", severity: "violation", count: 2, ran: true, title: "stuck" }, { code: "X" }] },
    };
    expect(summariseVerdict(row)).toEqual({
      id: "7",
      startedAt: new Date(1_000).toISOString(),
      finishedAt: new Date(2_000).toISOString(),
      ok: false,
      violations: 2,
      notices: 1,
      checks: [
        { code: "ORDER_STUCK", severity: "violation", count: 2, ran: true, title: "stuck" },
        { code: "X", severity: "violation", count: 0, ran: true, title: "" },
      ],
    });
    expect(summariseVerdict({ ...row, verdict: "garbage" }).checks).toEqual([]);
  });

  it("frames an event as one data line", () => {
    expect(sseFrame("sample", { a: "x\ny" })).toBe('event: sample\ndata: {"a":"x\\ny"}\n\n');
  });
});
