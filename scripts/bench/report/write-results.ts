import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { PipelineReport } from "../pipeline/pipeline-run.ts";
import {
  baselineTable,
  comparisonLines,
  flashSaleLines,
  generatorLines,
  markdownTable,
  overloadLines,
  processTable,
  stepsTable,
  textTable,
} from "./summary-tables.ts";
import { svgChart, type Panel } from "./svg-plot.ts";

export function pipelinePanels(report: PipelineReport): Panel[] {
  const steps = report.steps;
  const baseline = report.baseline?.steps ?? [];
  return [
    {
      title: "Latency vs offered rate",
      yLabel: "ms (log scale)",
      log: true,
      series: [
        { name: "accept p50", color: "#1f77b4", points: steps.map((s) => [s.rate, s.accept.latencyMs.p50]) },
        { name: "accept p99", color: "#1f77b4", dashed: true, points: steps.map((s) => [s.rate, s.accept.latencyMs.p99]) },
        { name: "placed->CONFIRMED p50", color: "#2ca02c", points: steps.map((s) => [s.rate, s.completion.placedToConfirmedMs.p50]) },
        { name: "placed->CONFIRMED p99", color: "#2ca02c", dashed: true, points: steps.map((s) => [s.rate, s.completion.placedToConfirmedMs.p99]) },
        { name: "baseline-sync p50", color: "#d62728", points: baseline.map((s) => [s.rate, s.accept.latencyMs.p50]) },
        { name: "baseline-sync p99", color: "#d62728", dashed: true, points: baseline.map((s) => [s.rate, s.accept.latencyMs.p99]) },
      ],
    },
    {
      title: "Queues vs offered rate (max over 2nd half of step)",
      yLabel: "messages / rows",
      log: false,
      series: [
        { name: "consumer lag (all groups)", color: "#9467bd", points: steps.map((s) => [s.rate, s.lag.maxSecondHalf]) },
        { name: "outbox backlog", color: "#ff7f0e", points: steps.map((s) => [s.rate, s.backlog.maxSecondHalf]) },
        { name: "flat bound", color: "#7f7f7f", dashed: true, points: steps.map((s) => [s.rate, s.lag.bound]) },
      ],
    },
  ];
}

export function pipelineMarkdown(report: PipelineReport): string {
  const lines = [
    `# Pipeline benchmark ${report.runId}`,
    "",
    `\`${report.command}\`, ${report.durationSeconds} s, ${report.machine.cpus} CPUs (${report.machine.cpuModel}), Node ${report.machine.node}, load average at start ${report.machine.loadAverageAtStart.join(" ")}.`,
    `Services: ${report.services.join(", ")} (one instance each, as npm start runs them; tracing ${report.settings.tracing ? "on" : "off"}, LOG_LEVEL ${report.settings.logLevel}, PAYMENT_LATENCY_MS ${report.settings.paymentLatencyMs}).`,
    `Database ${report.settings.database} (reset for this run), topic prefix ${report.settings.topicPrefix}. Steps of ${report.settings.stepSeconds} s, open loop, latency from each request's intended send time.`,
    "",
    `**Sustained capacity: ${report.sustainedCapacity ?? "none (the first step broke)"}${report.sustainedCapacity ? " orders/s" : ""}** (flat lag, flat backlog, zero non-2xx, every order decided after the drain).`,
    "",
    markdownTable(stepsTable(report)),
    "",
    ...(report.notRun.length > 0 ? [`Not run: ${report.notRun.map((n) => `${n.rate}/s (${n.why})`).join(", ")}.`, ""] : []),
    "## CPU seconds per 1,000 orders and peak memory per process",
    "",
    markdownTable(processTable(report)),
    "",
    ...(report.idle
      ? [
          `Idle cores: CPU seconds per second over ${report.idle.seconds} s with every service running and no load, after the warm-up (the fixed cost); the system under test used ${report.idle.systemCores} cores.`,
          "",
        ]
      : []),
    "PostgreSQL: every process of the cluster (postmaster, backends, background workers), memory as summed PSS; the others: VmRSS.",
    "",
    "Load generator:",
    ...generatorLines(report),
    "",
  ];
  if (report.baseline) {
    lines.push(
      "## baseline-sync",
      "",
      `One handler calling inventory ${report.baseline.chainMs.inventory} ms, payment ${report.baseline.chainMs.payment} ms, notification ${report.baseline.chainMs.notification} ms in sequence (concurrency ${report.baseline.concurrency || "unbounded"}); sustained while p99 <= ${report.baseline.p99LimitMs} ms and every answer is 2xx. Sustained capacity: ${report.baseline.sustainedCapacity ?? "none"}.`,
      "",
      markdownTable(baselineTable(report.baseline)),
      "",
      ...comparisonLines(report).map((line) => `- ${line}`),
      "",
    );
  }
  if (report.statements) {
    lines.push("## PostgreSQL statements by total execution time (pg_stat_statements, over the staircase)", "");
    lines.push(
      markdownTable({
        head: ["calls", "total ms", "mean ms", "rows", "query"],
        rows: report.statements.map((s) => [String(s.calls), String(s.totalMs), String(s.meanMs), String(s.rows), `\`${s.query.replace(/\|/g, "\\|")}\``]),
      }),
      "",
    );
  }
  if (report.overload) lines.push("## Overload and recovery", "", ...overloadLines(report).map((line) => `- ${line.trim()}`), "");
  if (report.flashSale) lines.push("## Flash sale", "", ...flashSaleLines(report).map((line) => `- ${line.trim()}`), "");
  lines.push(`![latency and lag vs rate](pipeline.svg)`, "");
  return lines.join("\n");
}

export function printPipeline(report: PipelineReport): string {
  return [
    textTable(stepsTable(report)),
    "",
    textTable(processTable(report)),
    ...(report.idle ? [`idle (${report.idle.seconds} s, no load): the system under test used ${report.idle.systemCores} cores`] : []),
    "load generator:",
    ...generatorLines(report),
    ...(report.baseline ? ["", "baseline-sync:", textTable(baselineTable(report.baseline)), ...comparisonLines(report)] : []),
    ...overloadLines(report),
    ...flashSaleLines(report),
    "",
    `sustained capacity: ${report.sustainedCapacity ?? "none"}${report.sustainedCapacity ? " orders/s" : ""}; run took ${report.durationSeconds} s`,
  ].join("\n");
}

/** <out>/pipeline.{json,md,svg} (the latest run) and the same under <out>/runs/<run id>/. Returns the written paths. */
export function writePipelineResults(outDir: string, report: PipelineReport, name = "pipeline"): string[] {
  const files: Array<[string, string]> = [
    [`${name}.json`, `${JSON.stringify(report, null, 2)}\n`],
    [`${name}.md`, pipelineMarkdown(report).replace("(pipeline.svg)", `(${name}.svg)`)],
    [`${name}.svg`, svgChart(pipelinePanels(report))],
  ];
  const written: string[] = [];
  for (const dir of [outDir, path.join(outDir, "runs", report.runId)]) {
    mkdirSync(dir, { recursive: true });
    for (const [file, content] of files) {
      writeFileSync(path.join(dir, file), content);
      written.push(path.join(dir, file));
    }
  }
  return written;
}
