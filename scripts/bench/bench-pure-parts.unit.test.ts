import { describe, expect, it } from "vitest";
import { parseBenchOptions, parseRates, UsageError, DEFAULT_RATES } from "./bench-options.ts";
import { dueCount, intendedOffsetMs, msUntilNext, scheduleFor } from "./load/arrival-schedule.ts";
import { jsonSafe, percentile, summarizeLatencies } from "./load/latency-summary.ts";
import { parseKb, parseStat } from "./measure/proc-stats.ts";
import { idleCostFrom } from "./measure/idle-cost.ts";
import { cpuBetween } from "./measure/process-set.ts";
import { happyPathBodies } from "./pipeline/order-bodies.ts";
import { overloadVerdict, recoveredAfter, recoveryBound, type OverloadResult } from "./pipeline/overload.ts";
import { arrivalRate, baselineVerdict, flatness, queueBound, stepVerdict, sustainedCapacity, type Sample } from "./pipeline/step-verdict.ts";
import { packageOf, summarizeProfile, type CpuProfile } from "./profile/cpuprofile-top.ts";
import { svgChart } from "./report/svg-plot.ts";

describe("latency summary", () => {
  it("takes nearest-rank percentiles, so p99 of 1..100 is 99 and p99.9 is the maximum", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // unsorted on purpose
    const summary = summarizeLatencies(values);
    expect(summary).toMatchObject({ count: 100, p50: 50, p90: 90, p99: 99, p999: 100, max: 100, mean: 50.5 });
    expect(values[0]).toBe(100); // input untouched
  });

  it("gives the single value for one sample and NaN (null in JSON) for none", () => {
    expect(percentile([7], 0.999)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
    expect(jsonSafe(summarizeLatencies([]))).toEqual({ count: 0, p50: null, p90: null, p99: null, p999: null, max: null, mean: null });
  });
});

describe("open-loop arrival schedule", () => {
  const schedule = scheduleFor(1000, 2);

  it("spaces requests 1/rate apart from the start, whatever happened to earlier ones", () => {
    expect(schedule.total).toBe(2000);
    expect(intendedOffsetMs(schedule, 0)).toBe(0);
    expect(intendedOffsetMs(schedule, 250)).toBe(250);
    expect(intendedOffsetMs(scheduleFor(3, 1), 1)).toBeCloseTo(333.333, 3);
  });

  it("counts every request whose intended time has passed as due, so a stalled generator catches up at once", () => {
    expect(dueCount(schedule, -1)).toBe(0);
    expect(dueCount(schedule, 0)).toBe(1);
    expect(dueCount(schedule, 0.999)).toBe(1);
    expect(dueCount(schedule, 1)).toBe(2);
    expect(dueCount(schedule, 500)).toBe(501); // a 500 ms stall: 500 requests go out back to back, each counted from its own time
    expect(dueCount(schedule, 60_000)).toBe(2000);
    // 1000 * i / rate with a rate like 3/s must not fall a hair short of the integer.
    expect(dueCount(scheduleFor(3, 10), 1000)).toBe(4);
  });

  it("waits until the next intended time, never negative, and nothing after the last", () => {
    expect(msUntilNext(schedule, 10, 9.4)).toBeCloseTo(0.6, 6);
    expect(msUntilNext(schedule, 10, 12)).toBe(0);
    expect(msUntilNext(schedule, 2000, 5000)).toBeUndefined();
  });

  it("refuses a rate or a duration that is not positive", () => {
    expect(() => scheduleFor(0, 10)).toThrow(/positive/);
    expect(() => scheduleFor(10, -1)).toThrow(/positive/);
  });
});

describe("flatness, step verdict and sustained capacity", () => {
  const options = { allowanceSeconds: 1, minimum: 50, drainLimitSeconds: 5 };
  const window = { loadStartMs: 0, loadEndMs: 30_000, arrivalsPerSecond: 500 };
  const series = (values: number[]): Sample[] => values.map((value, i) => ({ atMs: (i + 1) * 1000, value }));

  it("bounds a queue by the allowance in seconds of arrivals, with a floor for low rates", () => {
    expect(queueBound(500, options)).toBe(500);
    expect(queueBound(20, options)).toBe(50);
    expect(queueBound(1500, { allowanceSeconds: 0.5, minimum: 50 })).toBe(750);
  });

  it("is flat when the second half stays within the bound and the queue drained in time, even with a spike early on", () => {
    const values = [900, ...Array.from({ length: 29 }, () => 120)];
    const result = flatness(series(values), { ...window, drainedAtMs: 31_000 }, options);
    expect(result).toMatchObject({
      flat: true,
      bound: 500,
      arrivalsPerSecond: 500,
      maxSecondHalf: 120,
      max: 900,
      atEnd: 120,
      drainedAfterSeconds: 1,
      reason: null,
    });
  });

  it("counts arrivals in the queue's own unit: the growth of a summed log end offset per second, the order rate without two samples", () => {
    const ends = [
      { atMs: 1_000, total: 10_000 },
      { atMs: 11_000, total: 18_000 },
    ];
    expect(arrivalRate(ends, 100)).toBe(800);
    expect(arrivalRate(ends.slice(0, 1), 100)).toBe(100);
    expect(arrivalRate([], 100)).toBe(100);
  });

  it("is not flat when the queue grows past the bound in the second half", () => {
    const growing = Array.from({ length: 30 }, (_, i) => i * 30);
    const result = flatness(series(growing), { ...window, drainedAtMs: 32_000 }, options);
    expect(result.flat).toBe(false);
    expect(result.reason).toMatch(/reached 870 \(bound 500\)/);
  });

  it("is not flat when it stays low but does not drain within the limit, nor without samples", () => {
    const low = Array.from({ length: 30 }, () => 10);
    expect(flatness(series(low), { ...window, drainedAtMs: 36_000 }, options).reason).toMatch(/not back to 0 within 5 s/);
    expect(flatness(series(low), { ...window, drainedAtMs: null }, options).flat).toBe(false);
    expect(flatness([], { ...window, drainedAtMs: 30_000 }, options).reason).toMatch(/no sample/);
  });

  const flat = flatness(series(Array.from({ length: 30 }, () => 0)), { ...window, drainedAtMs: 30_000 }, options);
  const notFlat = { ...flat, flat: false, reason: "reached 900 (bound 500)" };

  it("sustains a step only with flat queues, zero non-2xx, zero errors and nothing left pending", () => {
    expect(stepVerdict({ non2xx: 0, errors: 0, lag: flat, backlog: flat, pendingAfterDrain: 0 })).toEqual({ sustained: true, reasons: [] });
    const broken = stepVerdict({ non2xx: 3, errors: 1, lag: notFlat, backlog: flat, pendingAfterDrain: 2 });
    expect(broken.sustained).toBe(false);
    expect(broken.reasons).toEqual([
      "3 non-2xx answers",
      "1 connection errors or timeouts",
      "consumer lag reached 900 (bound 500)",
      "2 orders still PENDING after the drain",
    ]);
  });

  it("takes the highest rate of the unbroken run from the bottom as the capacity", () => {
    const ok = { sustained: true, reasons: [] };
    const bad = { sustained: false, reasons: ["x"] };
    expect(
      sustainedCapacity([
        { rate: 100, verdict: ok },
        { rate: 250, verdict: ok },
        { rate: 500, verdict: bad },
        { rate: 1000, verdict: ok },
      ]),
    ).toBe(250);
    expect(sustainedCapacity([{ rate: 100, verdict: bad }])).toBeNull();
    expect(sustainedCapacity([])).toBeNull();
  });

  it("sustains a baseline step while p99 stays within the slack of its chain and every answer is 2xx", () => {
    expect(baselineVerdict({ non2xx: 0, errors: 0, p99Ms: 700, chainMs: 650, slack: 1.5 }).sustained).toBe(true);
    expect(baselineVerdict({ non2xx: 0, errors: 0, p99Ms: 1200, chainMs: 650, slack: 1.5 }).reasons).toEqual(["p99 1200 ms above 975 ms (requests queue)"]);
    expect(baselineVerdict({ non2xx: 1, errors: 0, p99Ms: null, chainMs: 650, slack: 1.5 }).sustained).toBe(false);
  });
});

describe("/proc parsing", () => {
  it("reads utime, stime, cutime, cstime and ppid even when the command name holds spaces and parentheses", () => {
    const stat = "4242 (node (worker) x) S 17 4242 4242 0 -1 4194560 1 2 3 4 1500 250 30 7 20 0 11 0 123 456 789";
    expect(parseStat(stat)).toEqual({ ppid: 17, utime: 1500, stime: 250, cutime: 30, cstime: 7 });
  });

  it("reads kB lines of status and smaps_rollup", () => {
    const status = "Name:\tnode\nVmHWM:\t  300000 kB\nVmRSS:\t  123456 kB\n";
    expect(parseKb(status, "VmRSS")).toBe(123456);
    expect(parseKb("Rss: 10 kB\nPss:  77 kB\n", "Pss")).toBe(77);
    expect(parseKb(status, "Pss")).toBeUndefined();
  });

  it("subtracts CPU snapshots per process and says null for one that was not running at both", () => {
    const before = new Map<string, number | undefined>([
      ["a", 1.5],
      ["b", undefined],
      ["c", 3],
    ]);
    const after = new Map<string, number | undefined>([
      ["a", 4.25],
      ["b", 2],
      ["c", 3],
    ]);
    expect(cpuBetween(before, after)).toEqual({ a: 2.75, b: null, c: 0 });
  });

  it("turns idle CPU seconds into cores per process and sums the system without the measuring tools", () => {
    const processes = [
      { name: "api", kind: "single" as const, pid: () => 1 },
      { name: "kafka", kind: "single" as const, pid: () => 2 },
      { name: "gone", kind: "single" as const, pid: () => undefined },
      { name: "load-generator", kind: "single" as const, pid: () => 3, tool: true },
    ];
    const idle = idleCostFrom(processes, { api: 0.5, kafka: 1.5, gone: null, "load-generator": 4 }, 10);
    expect(idle).toEqual({ seconds: 10, coresByProcess: { api: 0.05, kafka: 0.15, gone: null, "load-generator": 0.4 }, systemCores: 0.2 });
  });
});

describe("command line", () => {
  it("has defaults for the quoted run: the staircase, 30 s steps, the baseline on", () => {
    const options = parseBenchOptions(["pipeline"]);
    expect(options).toMatchObject({
      scenario: "pipeline",
      rates: DEFAULT_RATES,
      stepSeconds: 30,
      baseline: true,
      flashSale: false,
      database: "orderflow_bench",
      topicPrefix: "bench.",
      maxMinutes: 13,
      idleSeconds: 10,
    });
  });

  it("reads rates, step seconds, --no-baseline, --profile and the flash-sale options", () => {
    const options = parseBenchOptions([
      "pipeline",
      "--rates",
      "20, 50",
      "--step-seconds",
      "5",
      "--no-baseline",
      "--profile",
      "--flash-sale",
      "--flash-stock",
      "10",
      "--idle-seconds",
      "0",
      "--overload",
      "--overload-rate",
      "80",
    ]);
    expect(options).toMatchObject({
      overload: true,
      overloadRate: 80,
      overloadSeconds: 60,
      recoverySeconds: 45,
      idleSeconds: 0,
      rates: [20, 50],
      stepSeconds: 5,
      baseline: false,
      profile: true,
      flashSale: true,
      flashStock: 10,
    });
    expect(parseBenchOptions(["flash-sale"]).flashSale).toBe(true);
    expect(parseBenchOptions(["overload"])).toMatchObject({ overload: true, overloadRate: undefined });
  });

  it("refuses unknown scenarios, bad numbers and unsafe database names with a usage message", () => {
    expect(() => parseBenchOptions(["nope"])).toThrow(UsageError);
    expect(() => parseBenchOptions([])).toThrow(/usage: npm run bench/);
    expect(() => parseRates("100,x")).toThrow(/--rates/);
    expect(() => parseBenchOptions(["pipeline", "--step-seconds", "0"])).toThrow(/--step-seconds/);
    expect(() => parseBenchOptions(["pipeline", "--database", 'x"; DROP DATABASE orderflow; --'])).toThrow(/--database/);
  });
});

describe("happy-path orders", () => {
  const products = [
    { sku: "A-1", priceMinor: 8990, currency: "EUR" },
    { sku: "B-2", priceMinor: 590, currency: "EUR" },
    { sku: "C-3", priceMinor: 100, currency: "USD" },
  ];

  it("are the same for the same seed, use one currency and stay far below the provider's decline threshold", () => {
    const bodies = happyPathBodies(products, 500);
    expect(happyPathBodies(products, 500)).toEqual(bodies);
    for (const body of bodies.map((b) => JSON.parse(b) as { currency: string; customerId: string; items: Array<{ sku: string; quantity: number }> })) {
      expect(body.currency).toBe("EUR");
      expect(body.customerId).toMatch(/^bench-\d+$/);
      expect(body.items.every((item) => item.sku !== "C-3" && item.quantity >= 1 && item.quantity <= 3)).toBe(true);
    }
  });
});

describe("cpuprofile top", () => {
  it("names packages from script URLs", () => {
    expect(packageOf("file:///repo/node_modules/@prisma/client/runtime/x.js", "f")).toBe("@prisma/client");
    expect(packageOf("file:///repo/node_modules/.pnpm/x/node_modules/pg/lib/client.js", "f")).toBe("pg");
    expect(packageOf("node:internal/streams", "f")).toBe("node (internal)");
    expect(packageOf("file:///repo/services/payment/payment-consumer.ts", "f")).toBe("services/payment");
    expect(packageOf("", "(garbage collector)")).toBe("(garbage collector)");
    expect(packageOf("wasm://wasm/00d1cb12", "f")).toBe("(wasm)");
  });

  it("charges each sample's time delta to its node and leaves idle out of the busy share", () => {
    const profile: CpuProfile = {
      startTime: 0,
      endTime: 10_000,
      nodes: [
        { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 } },
        { id: 2, callFrame: { functionName: "(idle)", url: "", lineNumber: -1 } },
        { id: 3, callFrame: { functionName: "query", url: "file:///r/node_modules/pg/lib/client.js", lineNumber: 9 } },
        { id: 4, callFrame: { functionName: "handle", url: "file:///r/services/payment/x.ts", lineNumber: 0 } },
      ],
      samples: [2, 3, 3, 4, 2],
      timeDeltas: [1000, 3000, 3000, 2000, 1000],
    };
    const summary = summarizeProfile(profile, 5);
    expect(summary.totalMs).toBe(10);
    expect(summary.busyMs).toBe(8);
    expect(summary.packages).toEqual([
      { name: "pg", ms: 6, share: 75 },
      { name: "services/payment", ms: 2, share: 25 },
    ]);
    expect(summary.functions[0]).toEqual({ name: "query pg/lib/client.js:10", ms: 6, share: 75 });
  });
});

describe("svg chart", () => {
  it("draws one polyline per series with data and skips gaps", () => {
    const svg = svgChart([
      {
        title: "t",
        yLabel: "ms",
        log: true,
        series: [
          {
            name: "a",
            color: "red",
            points: [
              [100, 5],
              [200, null],
              [300, 50],
            ],
          },
          { name: "b", color: "blue", points: [[100, null]] },
        ],
      },
    ]);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(1);
    expect(svg.match(/<circle/g)).toHaveLength(2);
  });
});

describe("overload and recovery", () => {
  it("bounds normal latency at twice the reference p99, and at least 50 ms above it", () => {
    expect(recoveryBound(100)).toBe(200);
    expect(recoveryBound(10)).toBe(60);
    expect(recoveryBound(null)).toBe(50);
  });

  it("finds the first second from which every later second stays within the bound, offset by the gap before the light load", () => {
    expect(
      recoveredAfter(
        [
          [900, 5],
          [300, 5],
          [40, 5],
          [45, 5],
        ],
        60,
        2.5,
      ),
    ).toBe(4.5);
    expect(
      recoveredAfter(
        [
          [40, 5],
          [900, 5],
          [40, 5],
        ],
        60,
        0,
      ),
    ).toBe(2);
    expect(
      recoveredAfter(
        [
          [40, 5],
          [900, 5],
        ],
        60,
        0,
      ),
    ).toBeNull();
    expect(
      recoveredAfter(
        [
          [40, 5],
          [null, 0],
        ],
        60,
        0,
      ),
    ).toBeNull();
    expect(recoveredAfter([[40, 5]], 60, 1)).toBe(1);
  });

  it("holds only when every answer was 201 or 503 + Retry-After, nothing was lost or left PENDING, and latency recovered in time", () => {
    const held = {
      unanswered: 0,
      shed503WithoutRetryAfter: 0,
      otherNon2xx: 0,
      lost: 0,
      notTerminal: 0,
      recoveredAfterSeconds: 12,
      recoveryBoundMs: 200,
    } as Omit<OverloadResult, "verdict">;
    expect(overloadVerdict(held, 30)).toEqual({ ok: true, reasons: [] });
    const broken = overloadVerdict({ ...held, unanswered: 3, shed503WithoutRetryAfter: 1, lost: 2, notTerminal: 4, recoveredAfterSeconds: 41 }, 30);
    expect(broken.ok).toBe(false);
    expect(broken.reasons).toEqual([
      "3 requests not answered within the timeout",
      "1 x 503 without Retry-After",
      "2 accepted orders missing from the database",
      "4 accepted orders still PENDING after the settle bound",
      "accept p99 back within 200 ms only 41 s after the load dropped (limit 30 s)",
    ]);
    expect(overloadVerdict({ ...held, recoveredAfterSeconds: null }, 30).reasons).toEqual(["accept p99 never back within 200 ms"]);
  });
});
