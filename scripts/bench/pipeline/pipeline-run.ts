import { mkdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { loadConfig } from "../../../services/shared/config/load-config.ts";
import { createKafka, parseBrokers } from "../../../services/shared/kafka/kafka-client.ts";
import { kafkaGroupId, MONITORED_GROUPS } from "../../../services/shared/monitoring/lag-report.ts";
import { devEnvironment } from "../../run/prepare-environment.ts";
import { ALL_COMPONENTS } from "../../stack/components/all.ts";
import { createStackContext } from "../../stack/context.ts";
import { freePort, readPid } from "../../stack/process.ts";
import { stackUp } from "../../stack/stack-manager.ts";
import { runBaseline, type BaselineResult } from "../baseline/baseline-scenario.ts";
import type { BenchOptions } from "../bench-options.ts";
import { LoadGenerator } from "../load/load-generator.ts";
import type { LoadJob, LoadResult } from "../load/open-loop.ts";
import { lagReportReader, PipelineSampler } from "../measure/pipeline-sampler.ts";
import { resetStatementStats, topStatements, type StatementStat } from "../measure/statement-stats.ts";
import type { WatchedProcess } from "../measure/process-set.ts";
import { measureIdleCost, type IdleCost } from "../measure/idle-cost.ts";
import { prepareBenchDatabase, readCatalogue } from "./bench-database.ts";
import { BenchServices } from "./bench-services.ts";
import { resetBenchTopics } from "./bench-topics.ts";
import { runFlashSale, type FlashSaleResult } from "./flash-sale.ts";
import { runOverload, type OverloadResult } from "./overload.ts";
import { flashSaleBodies, happyPathBodies } from "./order-bodies.ts";
import { runStaircase, runStep, type StepContext, type StepResult } from "./staircase.ts";
import { sustainedCapacity } from "./step-verdict.ts";

const WARMUP_RATE = 20;
/** Light load before the overload, for the reference latency. */
const OVERLOAD_REFERENCE_SECONDS = 10;
/** Issue 9: back to normal latency within 30 s of the load dropping. */
const OVERLOAD_RECOVERY_LIMIT_SECONDS = 30;
const FLASH_SKU = "LTD-020";

/** The options a report repeats, so two runs' JSON say how they differed. */
type ReportedOption =
  | "rates"
  | "stepSeconds"
  | "drainSeconds"
  | "warmupSeconds"
  | "idleSeconds"
  | "lagAllowanceSeconds"
  | "profile"
  | "database"
  | "topicPrefix"
  | "timeoutMs"
  | "maxSockets";

export interface PipelineReport {
  benchmark: "pipeline";
  runId: string;
  at: string;
  command: string;
  durationSeconds: number;
  machine: { cpus: number; cpuModel: string; node: string; loadAverageAtStart: number[] };
  /** The options the run used, and what the environment decided (the provider's latency, log level, tracing). */
  settings: Pick<BenchOptions, ReportedOption> & { paymentLatencyMs: number; logLevel: string; tracing: boolean };
  services: string[];
  warmup: { accept: LoadResult; drained: boolean } | null;
  /** Every process' CPU with the services running and no load (after the warm-up); null when skipped. */
  idle: IdleCost | null;
  steps: StepResult[];
  notRun: Array<{ rate: number; why: string }>;
  /** Highest rate with flat lag, flat backlog, zero non-2xx and every order terminal after the drain. */
  sustainedCapacity: number | null;
  flashSale: FlashSaleResult | null;
  /** Overload and recovery (--overload or the overload scenario); null when not run. */
  overload: OverloadResult | null;
  /** PostgreSQL statements by total execution time over the staircase (null: pg_stat_statements not set up). */
  statements: StatementStat[] | null;
  baseline: BaselineResult | null;
  comparison: Comparison | null;
  files: { servicesLog: string; profiles: string | null };
}

export interface Comparison {
  /** The lowest rate both ran: p50s are compared there (where neither queues). */
  atRate: number | null;
  pipelineAcceptP50Ms: number | null;
  pipelineConfirmedP50Ms: number | null;
  baselineP50Ms: number | null;
  /** baseline p50 / pipeline accept p50 (how many times lower the pipeline's answer is). */
  acceptP50Ratio: number | null;
  /** baseline p50 / pipeline placed->CONFIRMED p50. */
  confirmedP50Ratio: number | null;
  pipelineCapacity: number | null;
  baselineCapacity: number | null;
  /** pipeline sustained capacity / baseline sustained capacity. */
  throughputRatio: number | null;
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || b === null || b === undefined || b === 0 ? null : Math.round((a / b) * 100) / 100;
}

export function compare(steps: readonly StepResult[], capacity: number | null, baseline: BaselineResult): Comparison {
  const atRate =
    steps
      .map((s) => s.rate)
      .filter((rate) => baseline.steps.some((b) => b.rate === rate))
      .sort((a, b) => a - b)[0] ?? null;
  const pipeline = steps.find((s) => s.rate === atRate);
  const sync = baseline.steps.find((s) => s.rate === atRate);
  const pipelineAcceptP50Ms = pipeline?.accept.latencyMs.p50 ?? null;
  const pipelineConfirmedP50Ms = pipeline?.completion.placedToConfirmedMs.p50 ?? null;
  const baselineP50Ms = sync?.accept.latencyMs.p50 ?? null;
  return {
    atRate,
    pipelineAcceptP50Ms,
    pipelineConfirmedP50Ms,
    baselineP50Ms,
    acceptP50Ratio: ratio(baselineP50Ms, pipelineAcceptP50Ms),
    confirmedP50Ratio: ratio(baselineP50Ms, pipelineConfirmedP50Ms),
    pipelineCapacity: capacity,
    baselineCapacity: baseline.sustainedCapacity,
    throughputRatio: ratio(capacity, baseline.sustainedCapacity),
  };
}

function postmasterPid(stackRoot: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(stackRoot, "postgres", "data", "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface RunHooks {
  log: (line: string) => void;
  /** Called with the cleanup to run on Ctrl-C, so no service outlives the benchmark. */
  onCleanup: (cleanup: () => Promise<void>) => void;
}

/** The pipeline scenario (and flash-sale and overload, which are the same run without the staircase). */
export async function runPipeline(options: BenchOptions, outDir: string, runId: string, hooks: RunHooks): Promise<PipelineReport> {
  const startedAt = Date.now();
  const deadlineMs = startedAt + options.maxMinutes * 60_000;
  const { log } = hooks;
  const ctx = createStackContext();
  const env = devEnvironment(process.env);
  const config = loadConfig(env);
  const loadAverageAtStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
  await stackUp(ctx, ALL_COMPONENTS);
  const databaseUrl = await prepareBenchDatabase(config.DATABASE_URL, options.database, log);
  const kafka = createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: "orderflow-bench", logLevel: "nothing", retries: 2 });
  const groupIds = MONITORED_GROUPS.map((group) => kafkaGroupId({ TOPIC_PREFIX: options.topicPrefix }, group));
  await resetBenchTopics(kafka, options.topicPrefix, groupIds, log);

  const runDir = path.join(outDir, "runs", runId);
  mkdirSync(runDir, { recursive: true });
  const profileDir = options.profile ? path.join(outDir, "profiles", runId) : undefined;
  const servicesLog = path.join(runDir, "services.log");
  const generator = await LoadGenerator.start();
  const apiPort = await freePort();
  log(
    `services: starting every service as npm start does (log: ${path.relative(ctx.paths.repo, servicesLog)})${profileDir ? `, profiling into ${path.relative(ctx.paths.repo, profileDir)}` : ""}`,
  );
  const services = BenchServices.start({
    repo: ctx.paths.repo,
    databaseUrl,
    topicPrefix: options.topicPrefix,
    apiPort,
    logFile: servicesLog,
    ...(profileDir !== undefined ? { profileDir } : {}),
    ...(options.paymentLatencyMs !== undefined ? { paymentLatencyMs: options.paymentLatencyMs } : {}),
  });
  const { createPrisma } = await import("../../../services/shared/db/index.ts");
  const prisma = createPrisma(databaseUrl, { poolSize: 2 });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3, statement_timeout: 60_000 });
  const sampler = new PipelineSampler(lagReportReader(kafka, prisma, options.topicPrefix), () => processes);
  let stopped = false;
  const cleanup = async () => {
    if (stopped) return;
    stopped = true;
    sampler.stop();
    await services.stop(config.SHUTDOWN_GRACE_MS + 5_000);
    await generator.close();
    await prisma.$disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  };
  hooks.onCleanup(cleanup);
  const processes: WatchedProcess[] = [
    ...services.names.map((name): WatchedProcess => ({ name, kind: "single", pid: () => services.pid(name) })),
    { name: "postgres", kind: "tree", pid: () => postmasterPid(ctx.paths.root) },
    { name: "kafka", kind: "single", pid: () => readPid(ctx, "kafka") },
    { name: "registry", kind: "single", pid: () => readPid(ctx, "registry") },
    { name: "jaeger", kind: "single", pid: () => readPid(ctx, "jaeger") },
    { name: "load-generator", kind: "single", pid: () => generator.pid, tool: true },
    { name: "bench (supervisor, sampler)", kind: "single", pid: () => process.pid, tool: true },
  ];
  try {
    await services.waitForApi(120_000);
    const products = await readCatalogue(databaseUrl);
    const happy = happyPathBodies(products, 4_000);
    const jobFor =
      (bodies: string[]) =>
      (rate = WARMUP_RATE, seconds = 1): LoadJob => ({
        url: services.apiUrl,
        path: "/orders",
        method: "POST",
        bodies,
        headers: { "content-type": "application/json" },
        rate,
        seconds,
        timeoutMs: options.timeoutMs,
        maxSockets: options.maxSockets,
      });
    const stepContext: StepContext = {
      generator,
      sampler,
      reader: lagReportReader(kafka, prisma, options.topicPrefix),
      pool,
      processes: () => processes,
      job: jobFor(happy),
      flatness: { allowanceSeconds: options.lagAllowanceSeconds, minimum: 50, drainLimitSeconds: options.drainSeconds },
      log,
    };
    sampler.start();
    let warmup: PipelineReport["warmup"] = null;
    if (options.warmupSeconds > 0) {
      log(`warm-up: ${WARMUP_RATE} orders/s for ${options.warmupSeconds} s, then until every order is decided (at most 120 s; not reported as a step)`);
      const step = await runStep(stepContext, WARMUP_RATE, options.warmupSeconds, 120);
      warmup = { accept: step.accept, drained: step.drainedAfterSeconds !== null };
      if (!warmup.drained) log("warning: the warm-up orders were not all decided within 120 s; the first step will likely break");
    }
    let idle: IdleCost | null = null;
    if (options.idleSeconds > 0) {
      log(`idle: ${options.idleSeconds} s with no load, every process' CPU (the fixed cost)`);
      idle = await measureIdleCost(() => processes, options.idleSeconds);
      log(`idle: the system under test used ${idle.systemCores} cores`);
    }
    const runsStaircase = options.scenario === "pipeline";
    const baselineReserveMs = runsStaircase && options.baseline ? Math.min(options.rates.length, 6) * (options.baselineStepSeconds + 3) * 1000 + 20_000 : 0;
    const flashReserveMs = options.flashSale ? (options.flashSeconds + 40) * 1000 : 0;
    const overloadReserveMs = options.overload ? (OVERLOAD_REFERENCE_SECONDS + options.overloadSeconds + options.recoverySeconds + 30) * 1000 : 0;
    const statementStats = await resetStatementStats(config.DATABASE_URL);
    const staircase = runsStaircase
      ? await runStaircase(stepContext, {
          rates: options.rates,
          stepSeconds: options.stepSeconds,
          drainSeconds: options.drainSeconds,
          deadlineMs: deadlineMs - baselineReserveMs - flashReserveMs - overloadReserveMs,
        })
      : { steps: [], notRun: [] };
    const capacity = sustainedCapacity(staircase.steps);
    const statements = statementStats ? await topStatements(config.DATABASE_URL, options.database) : null;
    let overload: OverloadResult | null = null;
    if (options.overload) {
      const rate = options.overloadRate ?? 2 * (capacity ?? options.rates[0]!);
      const probeRate = Math.max(5, Math.min(50, Math.round(rate / 8)));
      log(
        `overload: ${probeRate}/s for ${OVERLOAD_REFERENCE_SECONDS} s, ${rate} orders/s for ${options.overloadSeconds} s, then ${probeRate}/s for ${options.recoverySeconds} s`,
      );
      overload = await runOverload(generator, pool, jobFor(happy), {
        rate,
        seconds: options.overloadSeconds,
        probeRate,
        referenceSeconds: OVERLOAD_REFERENCE_SECONDS,
        recoverySeconds: options.recoverySeconds,
        recoveryLimitSeconds: OVERLOAD_RECOVERY_LIMIT_SECONDS,
        settleSeconds: 180,
      });
      log(`overload: ${overload.verdict.ok ? "held" : `did not hold: ${overload.verdict.reasons.join("; ")}`}`);
    }
    let flashSale: FlashSaleResult | null = null;
    if (options.flashSale) {
      const rate = options.flashRate ?? Math.min(500, Math.max(50, capacity ?? options.rates[0]!));
      const currency = products.find((p) => p.sku === FLASH_SKU)?.currency ?? products[0]?.currency ?? "EUR";
      log(`flash sale: ${rate} orders/s for ${options.flashSeconds} s, all for ${FLASH_SKU} with ${options.flashStock} units in stock`);
      flashSale = await runFlashSale(generator, pool, jobFor(flashSaleBodies(FLASH_SKU, currency, 4_000)), {
        sku: FLASH_SKU,
        stock: options.flashStock,
        rate,
        seconds: options.flashSeconds,
        settleSeconds: 30,
      });
      log(
        `flash sale: ${flashSale.completion.confirmed} confirmed, ${flashSale.completion.cancelled} cancelled, ${flashSale.completion.pending} pending; ${flashSale.confirmedUnits}/${flashSale.stock} units sold${flashSale.oversold ? " OVERSOLD" : ""}`,
      );
    }
    log("services: stopping (SIGTERM, graceful)");
    await cleanup();
    let baseline: BaselineResult | null = null;
    if (runsStaircase && options.baseline) {
      const baselineGenerator = await LoadGenerator.start();
      try {
        baseline = await runBaseline(baselineGenerator, {
          rates: options.rates,
          stepSeconds: options.baselineStepSeconds,
          concurrency: options.baselineConcurrency,
          timeoutMs: options.timeoutMs,
          maxSockets: options.maxSockets,
          deadlineMs,
          log,
        });
      } finally {
        await baselineGenerator.close();
      }
    }
    return {
      benchmark: "pipeline",
      runId,
      at: new Date(startedAt).toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
      durationSeconds: Math.round((Date.now() - startedAt) / 1000),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", node: process.version, loadAverageAtStart },
      settings: {
        rates: options.rates,
        stepSeconds: options.stepSeconds,
        drainSeconds: options.drainSeconds,
        warmupSeconds: options.warmupSeconds,
        idleSeconds: options.idleSeconds,
        lagAllowanceSeconds: options.lagAllowanceSeconds,
        paymentLatencyMs: options.paymentLatencyMs ?? config.PAYMENT_LATENCY_MS,
        logLevel: config.LOG_LEVEL,
        tracing: env.OTEL_SDK_DISABLED !== "true",
        profile: options.profile,
        database: options.database,
        topicPrefix: options.topicPrefix,
        timeoutMs: options.timeoutMs,
        maxSockets: options.maxSockets,
      },
      services: services.names,
      warmup,
      idle,
      steps: staircase.steps,
      notRun: staircase.notRun,
      sustainedCapacity: capacity,
      flashSale,
      overload,
      statements,
      baseline,
      comparison: baseline ? compare(staircase.steps, capacity, baseline) : null,
      files: { servicesLog: path.relative(ctx.paths.repo, servicesLog), profiles: profileDir ? path.relative(ctx.paths.repo, profileDir) : null },
    };
  } finally {
    await cleanup();
  }
}
