import { parseArgs } from "node:util";

export const SCENARIOS = ["pipeline", "baseline-sync", "flash-sale", "overload", "accept", "relay", "profile-top"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const DEFAULT_RATES = [100, 250, 500, 1000, 1500, 2000, 2500, 3000];

export interface BenchOptions {
  scenario: ScenarioName;
  /** Positional arguments after the scenario (profile-top: files or folders). */
  rest: string[];
  rates: number[];
  stepSeconds: number;
  drainSeconds: number;
  warmupSeconds: number;
  /** Seconds with every service running and no load, after the warm-up: the pipeline's fixed cost (0 skips it). */
  idleSeconds: number;
  lagAllowanceSeconds: number;
  baseline: boolean;
  baselineStepSeconds: number;
  /** 0: the baseline handler runs every request at once; N: at most N at a time (a worker pool). */
  baselineConcurrency: number;
  flashSale: boolean;
  flashRate: number | undefined;
  flashSeconds: number;
  flashStock: number;
  /** Overload and recovery after the staircase (and the flash sale). */
  overload: boolean;
  /** Default: twice the sustained capacity (twice the first rate when there is none). */
  overloadRate: number | undefined;
  overloadSeconds: number;
  recoverySeconds: number;
  profile: boolean;
  paymentLatencyMs: number | undefined;
  maxMinutes: number;
  database: string;
  topicPrefix: string;
  out: string;
  timeoutMs: number;
  maxSockets: number;
  top: number;
}

export class UsageError extends Error {}

/** --help: the usage text, and a zero exit status. */
export class HelpRequested extends UsageError {}

export const USAGE = `usage: npm run bench -- <scenario> [options]
scenarios:
  pipeline        every service as npm start runs it, open-loop staircase (the figure we quote); runs baseline-sync too
  baseline-sync   the synchronous chain (inventory 200 ms, payment 300 ms, notification 150 ms) under the same load
  flash-sale      one SKU with small stock: the rejection path
  overload        more than it sustains, then a light load: every answer 201 or 503 + Retry-After, nothing lost, recovery
  accept          POST /orders alone under autocannon (closed loop)          (= npm run bench:accept)
  relay           relay drain vs a raw producer, created->acked at 1,000/s   (= npm run bench:relay)
  profile-top     top self-time functions and packages of .cpuprofile files: profile-top <file|dir>... [--top N]
options (pipeline, baseline-sync, flash-sale):
  --rates 100,250,500       orders/s per step (default ${DEFAULT_RATES.join(",")}); the staircase stops at the first broken step
  --step-seconds 30         load per step                       --drain-seconds 5   drain allowed after each step
  --warmup-seconds 5        warm-up at 20/s, not reported       --lag-allowance-seconds 1  "flat" bound: seconds of arrivals queued
  --idle-seconds 10         then no load: each process' CPU while idle (the fixed cost; 0 skips it)
  --no-baseline             pipeline without baseline-sync      --baseline-step-seconds 15  --baseline-concurrency 0 (0 = unbounded)
  --flash-sale              then a flash-sale run               --flash-rate N  --flash-seconds 10  --flash-stock 100
  --overload                then overload and recovery          --overload-rate N (default 2 x sustained capacity)
  --overload-seconds 60     the overload                        --recovery-seconds 45  light load after it
  --profile                 services run with node --cpu-prof (profiles under <out>/profiles/<run>/)
  --payment-latency-ms N    PAYMENT_LATENCY_MS of the simulated provider (default: the environment's, else 15)
  --max-minutes 13          time budget: steps that would end past it are not run (the last may overrun by a step)
  --database orderflow_bench  --topic-prefix bench.  --out bench-results  --timeout-ms 10000  --max-sockets 1024`;

function positiveNumber(name: string, raw: string | undefined, fallback: number, { integer = false, zero = false } = {}): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const ok = Number.isFinite(value) && (zero ? value >= 0 : value > 0) && (!integer || Number.isInteger(value));
  if (!ok) throw new UsageError(`--${name} must be a ${integer ? "whole " : ""}number ${zero ? ">= 0" : "> 0"}, got "${raw}"`);
  return value;
}

export function parseRates(raw: string): number[] {
  const rates = raw
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map(Number);
  if (rates.length === 0 || rates.some((rate) => !Number.isFinite(rate) || rate <= 0))
    throw new UsageError(`--rates must be a comma-separated list of positive numbers, got "${raw}"`);
  return rates;
}

export function parseBenchOptions(argv: string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      rates: { type: "string" },
      "step-seconds": { type: "string" },
      "drain-seconds": { type: "string" },
      "warmup-seconds": { type: "string" },
      "idle-seconds": { type: "string" },
      "lag-allowance-seconds": { type: "string" },
      "no-baseline": { type: "boolean", default: false },
      "baseline-step-seconds": { type: "string" },
      "baseline-concurrency": { type: "string" },
      "flash-sale": { type: "boolean", default: false },
      "flash-rate": { type: "string" },
      "flash-seconds": { type: "string" },
      "flash-stock": { type: "string" },
      overload: { type: "boolean", default: false },
      "overload-rate": { type: "string" },
      "overload-seconds": { type: "string" },
      "recovery-seconds": { type: "string" },
      profile: { type: "boolean", default: false },
      "payment-latency-ms": { type: "string" },
      "max-minutes": { type: "string" },
      database: { type: "string" },
      "topic-prefix": { type: "string" },
      out: { type: "string" },
      "timeout-ms": { type: "string" },
      "max-sockets": { type: "string" },
      top: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [scenario, ...rest] = positionals;
  if (values.help) throw new HelpRequested(USAGE);
  if (scenario === undefined) throw new UsageError(USAGE);
  if (!(SCENARIOS as readonly string[]).includes(scenario)) throw new UsageError(`unknown scenario "${scenario}"\n${USAGE}`);
  const database = values.database ?? "orderflow_bench";
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new UsageError(`--database must be a plain lower-case PostgreSQL name, got "${database}"`);
  const topicPrefix = values["topic-prefix"] ?? "bench.";
  if (!/^[a-zA-Z0-9._-]+$/.test(topicPrefix)) throw new UsageError(`--topic-prefix must match [a-zA-Z0-9._-]+, got "${topicPrefix}"`);
  return {
    scenario: scenario as ScenarioName,
    rest,
    rates: values.rates === undefined ? DEFAULT_RATES : parseRates(values.rates),
    stepSeconds: positiveNumber("step-seconds", values["step-seconds"], 30),
    drainSeconds: positiveNumber("drain-seconds", values["drain-seconds"], 5),
    warmupSeconds: positiveNumber("warmup-seconds", values["warmup-seconds"], 5, { zero: true }),
    idleSeconds: positiveNumber("idle-seconds", values["idle-seconds"], 10, { zero: true }),
    lagAllowanceSeconds: positiveNumber("lag-allowance-seconds", values["lag-allowance-seconds"], 1),
    baseline: !values["no-baseline"],
    baselineStepSeconds: positiveNumber("baseline-step-seconds", values["baseline-step-seconds"], 15),
    baselineConcurrency: positiveNumber("baseline-concurrency", values["baseline-concurrency"], 0, { integer: true, zero: true }),
    flashSale: values["flash-sale"] || scenario === "flash-sale",
    flashRate: values["flash-rate"] === undefined ? undefined : positiveNumber("flash-rate", values["flash-rate"], 0),
    flashSeconds: positiveNumber("flash-seconds", values["flash-seconds"], 10),
    flashStock: positiveNumber("flash-stock", values["flash-stock"], 100, { integer: true }),
    overload: values.overload || scenario === "overload",
    overloadRate: values["overload-rate"] === undefined ? undefined : positiveNumber("overload-rate", values["overload-rate"], 0),
    overloadSeconds: positiveNumber("overload-seconds", values["overload-seconds"], 60),
    recoverySeconds: positiveNumber("recovery-seconds", values["recovery-seconds"], 45),
    profile: values.profile,
    paymentLatencyMs:
      values["payment-latency-ms"] === undefined
        ? undefined
        : positiveNumber("payment-latency-ms", values["payment-latency-ms"], 0, { integer: true, zero: true }),
    maxMinutes: positiveNumber("max-minutes", values["max-minutes"], 13),
    database,
    topicPrefix,
    out: values.out ?? "bench-results",
    timeoutMs: positiveNumber("timeout-ms", values["timeout-ms"], 10_000, { integer: true }),
    maxSockets: positiveNumber("max-sockets", values["max-sockets"], 1024, { integer: true }),
    top: positiveNumber("top", values.top, 25, { integer: true }),
  };
}
