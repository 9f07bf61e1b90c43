import type { BaselineResult } from "../baseline/baseline-scenario.ts";
import type { LoadResult } from "../load/open-loop.ts";
import type { PipelineReport } from "../pipeline/pipeline-run.ts";
import type { StepVerdict } from "../pipeline/step-verdict.ts";

type Cell = string | number | null | undefined;

function show(value: Cell, digits = 1): string {
  if (value === null || value === undefined || (typeof value === "number" && !Number.isFinite(value))) return "-";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(digits);
  return value;
}

export interface Table {
  head: string[];
  rows: string[][];
}

export function markdownTable(table: Table): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(table.head), line(table.head.map(() => "---")), ...table.rows.map(line)].join("\n");
}

/** Fixed-width text for the terminal. */
export function textTable(table: Table): string {
  const widths = table.head.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return [line(table.head), ...table.rows.map(line)].join("\n");
}

/** The columns every open-loop step has, pipeline or baseline: rate, achieved rate, latency, failures. */
const LOAD_HEAD = ["sent/s", "p50 ms", "p99", "p99.9", "non-2xx+err"];

function loadCells(step: { rate: number; accept: LoadResult }): string[] {
  const { accept } = step;
  return [
    show(step.rate),
    show(accept.achievedRate),
    show(accept.latencyMs.p50),
    show(accept.latencyMs.p99),
    show(accept.latencyMs.p999),
    show(accept.non2xx + accept.errors),
  ];
}

function verdictCell(verdict: StepVerdict): string {
  return verdict.sustained ? "sustained" : `broken: ${verdict.reasons.join("; ")}`;
}

export function stepsTable(report: PipelineReport): Table {
  return {
    head: [
      "orders/s",
      ...LOAD_HEAD.map((h) => (h === "p50 ms" ? "accept p50 ms" : h)),
      "placed->CONFIRMED p50 ms",
      "p99",
      "confirmed/s",
      "lag max/bound",
      "backlog max/bound",
      "drained s",
      "CPU s/1k orders",
      "tools CPU s/1k",
      "cores",
      "verdict",
    ],
    rows: report.steps.map((s) => [
      ...loadCells(s),
      show(s.completion.placedToConfirmedMs.p50),
      show(s.completion.placedToConfirmedMs.p99),
      show(s.completion.confirmedPerSecond),
      `${show(s.lag.maxSecondHalf)}/${s.lag.bound}`,
      `${show(s.backlog.maxSecondHalf)}/${s.backlog.bound}`,
      show(s.drainedAfterSeconds),
      show(s.cpuSecondsPer1000OrdersTotal, 2),
      show(s.cpuSecondsPer1000OrdersTools, 2),
      show(s.coresBusy, 2),
      verdictCell(s.verdict),
    ]),
  };
}

/** CPU seconds per 1,000 orders and peak memory of every watched process, one column per step. */
export function processTable(report: PipelineReport): Table {
  const names = [...new Set([...Object.keys(report.idle?.coresByProcess ?? {}), ...report.steps.flatMap((s) => Object.keys(s.cpuSecondsPer1000Orders))])];
  const idle = report.idle;
  return {
    head: ["process", ...(idle ? ["idle cores"] : []), ...report.steps.map((s) => `CPU s/1k @${s.rate}`), "peak MB"],
    rows: names.map((name) => [
      name,
      ...(idle ? [show(idle.coresByProcess[name], 3)] : []),
      ...report.steps.map((s) => show(s.cpuSecondsPer1000Orders[name], 3)),
      show(Math.max(0, ...report.steps.map((s) => s.peakMemoryMb[name] ?? 0))),
    ]),
  };
}

export function baselineTable(baseline: BaselineResult): Table {
  return {
    head: ["requests/s", ...LOAD_HEAD, "server CPU s/1k", "generator CPU s", "verdict"],
    rows: baseline.steps.map((s) => [...loadCells(s), show(s.cpuSecondsPer1000Requests, 3), show(s.accept.cpuSeconds, 2), verdictCell(s.verdict)]),
  };
}

export function comparisonLines(report: PipelineReport): string[] {
  const c = report.comparison;
  if (!c) return [];
  return [
    `p50 at ${show(c.atRate)}/s: baseline-sync ${show(c.baselineP50Ms)} ms; pipeline accept ${show(c.pipelineAcceptP50Ms)} ms (baseline/pipeline ${show(c.acceptP50Ratio, 2)}x), placed->CONFIRMED ${show(c.pipelineConfirmedP50Ms)} ms (${show(c.confirmedP50Ratio, 2)}x)`,
    `sustained capacity: pipeline ${show(c.pipelineCapacity)} vs baseline-sync ${show(c.baselineCapacity)} per second (pipeline/baseline ${show(c.throughputRatio, 2)}x)`,
  ];
}

export function generatorLines(report: PipelineReport): string[] {
  return report.steps.map(
    (s) =>
      `  ${s.rate}/s: load generator ${show(s.accept.cpuSeconds, 2)} CPU s over ${show(s.accept.wallSeconds)} s (fired up to ${show(s.accept.fireLatenessMs.max)} ms late)`,
  );
}

export function flashSaleLines(report: PipelineReport): string[] {
  const f = report.flashSale;
  if (!f) return [];
  return [
    `flash sale (${f.sku}, stock ${f.stock}, ${f.rate}/s for ${f.seconds} s): ${f.accept.sent} sent, accept p50 ${show(f.accept.latencyMs.p50)} ms p99 ${show(f.accept.latencyMs.p99)} ms, non-2xx+errors ${f.accept.non2xx + f.accept.errors}`,
    `  ${f.completion.confirmed} CONFIRMED (${f.confirmedUnits} units${f.oversold ? ", OVERSOLD" : ", no oversell"}), ${f.completion.cancelled} CANCELLED (placed->CANCELLED p50 ${show(f.completion.placedToCancelledMs.p50)} ms, p99 ${show(f.completion.placedToCancelledMs.p99)} ms), ${f.completion.pending} PENDING; settled ${show(f.settledAfterSeconds)} s after the load`,
  ];
}

export function overloadLines(report: PipelineReport): string[] {
  const o = report.overload;
  if (!o) return [];
  const latency = (r: { latencyMs: { p50: number | null; p99: number | null } }) => `p50 ${show(r.latencyMs.p50)} ms p99 ${show(r.latencyMs.p99)} ms`;
  return [
    `overload (${o.rate}/s for ${o.seconds} s, light load ${o.probeRate}/s before and after): ${o.verdict.ok ? "held" : `did not hold: ${o.verdict.reasons.join("; ")}`}`,
    `  before: accept ${latency(o.reference)}; during: ${o.overload.sent} sent, ${o.accepted} x 201, ${o.shed503} x 503 (${o.shed503WithoutRetryAfter} without Retry-After), ${o.otherNon2xx} other, ${o.unanswered} unanswered within the timeout; accept ${latency(o.overload)}`,
    `  accepted orders: ${o.lost} missing from the database, ${o.notTerminal} still PENDING; all terminal ${show(o.settledAfterSeconds)} s after the load dropped`,
    `  after: accept ${latency(o.recovery)}; per-second p99 within ${o.recoveryBoundMs} ms from ${show(o.recoveredAfterSeconds)} s after the load dropped`,
  ];
}
