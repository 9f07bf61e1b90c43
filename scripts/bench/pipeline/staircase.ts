import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { LoadGenerator } from "../load/load-generator.ts";
import type { LoadJob, LoadResult } from "../load/open-loop.ts";
import { cpuBetween, cpuSnapshot, type WatchedProcess } from "../measure/process-set.ts";
import type { PipelineSampler, QueueReader } from "../measure/pipeline-sampler.ts";
import { pendingSince, readCompletion, type Completion } from "./completion-times.ts";
import { arrivalRate, flatness, stepVerdict, type Flatness, type FlatnessOptions, type StepVerdict } from "./step-verdict.ts";

export interface StepContext {
  generator: LoadGenerator;
  sampler: PipelineSampler;
  /** A second reader for the drain check, so it never waits for the sampler's cadence. */
  reader: QueueReader;
  pool: pg.Pool;
  processes: () => WatchedProcess[];
  job: (rate: number, seconds: number) => LoadJob;
  flatness: FlatnessOptions;
  log: (line: string) => void;
}

export interface StepResult {
  rate: number;
  seconds: number;
  accept: LoadResult;
  completion: Completion;
  lag: Flatness;
  backlog: Flatness;
  /** Seconds after the load until lag, backlog and pending orders were all zero (null: not within the drain limit). */
  drainedAfterSeconds: number | null;
  deadLettersAdded: number;
  /** CPU seconds per process over the step and its drain. */
  cpuSeconds: Record<string, number | null>;
  /** The same per 1,000 orders placed in the step (rows in orders: an answer lost to a client timeout still counts). */
  cpuSecondsPer1000Orders: Record<string, number | null>;
  /** Summed over the system under test: the services, PostgreSQL, Kafka, the registry and Jaeger. */
  cpuSecondsPer1000OrdersTotal: number | null;
  /** Summed over the measuring tools (load generator, the benchmark process with the supervisor and sampler). */
  cpuSecondsPer1000OrdersTools: number | null;
  /** Cores the system under test kept busy on average over the step and its drain. */
  coresBusy: number | null;
  peakMemoryMb: Record<string, number>;
  /** [seconds since the step started, total lag, backlog] once per sampler reading. */
  series: Array<[number, number, number]>;
  verdict: StepVerdict;
}

interface DrainTimes {
  lagZeroAtMs: number | null;
  backlogZeroAtMs: number | null;
  allDoneAtMs: number | null;
  pending: number;
}

/** Polls until lag, backlog and the step's PENDING orders are all zero, at most limitMs. */
async function waitForDrain(ctx: StepContext, stepStartMs: number, limitMs: number): Promise<DrainTimes> {
  const deadline = Date.now() + limitMs;
  const times: DrainTimes = { lagZeroAtMs: null, backlogZeroAtMs: null, allDoneAtMs: null, pending: -1 };
  for (;;) {
    const sample = await ctx.reader.read().catch(() => undefined);
    times.pending = await pendingSince(ctx.pool, stepStartMs);
    if (sample && sample.errors.length === 0) {
      if (sample.totalLag === 0) times.lagZeroAtMs ??= sample.atMs;
      if (sample.backlog === 0) times.backlogZeroAtMs ??= sample.atMs;
      if (sample.totalLag === 0 && sample.backlog === 0 && times.pending === 0) {
        times.allDoneAtMs = Date.now();
        return times;
      }
    }
    if (Date.now() > deadline) return times;
    await sleep(200);
  }
}

function per1000(cpu: Record<string, number | null>, orders: number): Record<string, number | null> {
  return Object.fromEntries(Object.entries(cpu).map(([name, seconds]) => [name, seconds === null ? null : perOrder(seconds, orders)]));
}

function sum(values: ReadonlyArray<number | null>): number {
  return values.reduce<number>((total, value) => total + (value ?? 0), 0);
}

function perOrder(seconds: number, orders: number): number | null {
  return orders === 0 ? null : Math.round((seconds / orders) * 1000 * 1000) / 1000;
}

/** One step: open-loop load at `rate`, the drain, then the figures from the generator, Kafka, SQL and /proc. */
export async function runStep(ctx: StepContext, rate: number, seconds: number, drainLimitSeconds: number): Promise<StepResult> {
  const processes = ctx.processes();
  ctx.sampler.memory.take(); // a fresh peak series for this step
  const cpuBefore = cpuSnapshot(processes);
  const dlqBefore = ctx.sampler.samples.at(-1)?.deadLetters ?? 0;
  const startMs = Date.now();
  const accept = await ctx.generator.run(ctx.job(rate, seconds));
  const loadEndMs = Date.now();
  const drain = await waitForDrain(ctx, startMs, drainLimitSeconds * 1000);
  const endMs = Date.now();
  const cpuSeconds = cpuBetween(cpuBefore, cpuSnapshot(processes));
  const peakMemoryMb = ctx.sampler.memory.take();
  const completion = await readCompletion(ctx.pool, startMs, endMs + 1);
  const samples = ctx.sampler.between(startMs, loadEndMs).filter((sample) => sample.errors.length === 0);
  const window = { loadStartMs: startMs, loadEndMs };
  const deliveries = arrivalRate(
    samples.map((s) => ({ atMs: s.atMs, total: s.deliveriesOwed })),
    rate,
  );
  const records = arrivalRate(
    samples.map((s) => ({ atMs: s.atMs, total: s.recordsPublished })),
    rate,
  );
  const lag = flatness(
    samples.map((s) => ({ atMs: s.atMs, value: s.totalLag })),
    { ...window, arrivalsPerSecond: deliveries, drainedAtMs: drain.lagZeroAtMs },
    ctx.flatness,
  );
  const backlog = flatness(
    samples.map((s) => ({ atMs: s.atMs, value: s.backlog })),
    { ...window, arrivalsPerSecond: records, drainedAtMs: drain.backlogZeroAtMs },
    ctx.flatness,
  );
  const pendingAfterDrain = Math.max(0, drain.pending);
  const orders = completion.placed;
  const tools = new Set(processes.filter((p) => p.tool === true).map((p) => p.name));
  const total = sum(
    Object.entries(cpuSeconds)
      .filter(([name]) => !tools.has(name))
      .map(([, seconds]) => seconds),
  );
  const toolTotal = sum(
    Object.entries(cpuSeconds)
      .filter(([name]) => tools.has(name))
      .map(([, seconds]) => seconds),
  );
  const wall = (endMs - startMs) / 1000;
  const verdict = stepVerdict({ non2xx: accept.non2xx, errors: accept.errors, lag, backlog, pendingAfterDrain });
  return {
    rate,
    seconds,
    accept,
    completion,
    lag,
    backlog,
    drainedAfterSeconds: drain.allDoneAtMs === null ? null : Math.round((drain.allDoneAtMs - loadEndMs) / 100) / 10,
    deadLettersAdded: Math.max(0, (ctx.sampler.samples.at(-1)?.deadLetters ?? dlqBefore) - dlqBefore),
    cpuSeconds,
    cpuSecondsPer1000Orders: per1000(cpuSeconds, orders),
    cpuSecondsPer1000OrdersTotal: perOrder(total, orders),
    cpuSecondsPer1000OrdersTools: perOrder(toolTotal, orders),
    coresBusy: wall > 0 ? Math.round((total / wall) * 100) / 100 : null,
    peakMemoryMb,
    series: ctx.sampler.between(startMs, endMs).map((s) => [Math.round((s.atMs - startMs) / 100) / 10, s.totalLag, s.backlog]),
    verdict,
  };
}

export interface StaircaseOptions {
  rates: number[];
  stepSeconds: number;
  drainSeconds: number;
  /** Date.now() after which no step may still be running. */
  deadlineMs: number;
}

export interface Staircase {
  steps: StepResult[];
  /** Rates not run, and why. */
  notRun: Array<{ rate: number; why: string }>;
}

/** Steps up the rates; stops at the first step that is not sustained or that would end past the deadline. */
export async function runStaircase(ctx: StepContext, options: StaircaseOptions): Promise<Staircase> {
  const steps: StepResult[] = [];
  const notRun: Staircase["notRun"] = [];
  for (const [index, rate] of options.rates.entries()) {
    const estimateMs = (options.stepSeconds + options.drainSeconds + 5) * 1000;
    if (Date.now() + estimateMs > options.deadlineMs) {
      for (const skipped of options.rates.slice(index)) notRun.push({ rate: skipped, why: "time budget (--max-minutes)" });
      break;
    }
    ctx.log(`step ${index + 1}/${options.rates.length}: ${rate} orders/s for ${options.stepSeconds} s ...`);
    const step = await runStep(ctx, rate, options.stepSeconds, options.drainSeconds);
    steps.push(step);
    ctx.log(
      `step ${rate}/s: accept p50 ${step.accept.latencyMs.p50} ms p99 ${step.accept.latencyMs.p99} ms, non-2xx ${step.accept.non2xx}, errors ${step.accept.errors}; ` +
        `confirmed p50 ${step.completion.placedToConfirmedMs.p50} ms; ${step.verdict.sustained ? "sustained" : `broken: ${step.verdict.reasons.join("; ")}`}`,
    );
    if (!step.verdict.sustained) {
      for (const skipped of options.rates.slice(index + 1)) notRun.push({ rate: skipped, why: `a lower step broke (${rate}/s)` });
      break;
    }
  }
  return { steps, notRun };
}
