// `npm run bench -- <scenario> [options]`: one entry point for every benchmark (`npm run bench -- --help`).
// Figures, never assertions: each scenario prints its table and writes JSON (+ markdown and SVG) under bench-results/.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stackPaths } from "../stack/stack-config.ts";
import { runBaseline } from "./baseline/baseline-scenario.ts";
import { HelpRequested, parseBenchOptions, UsageError, type BenchOptions } from "./bench-options.ts";
import { LoadGenerator } from "./load/load-generator.ts";
import { runPipeline } from "./pipeline/pipeline-run.ts";
import { printProfileTop } from "./profile/cpuprofile-top.ts";
import { baselineTable, markdownTable, textTable } from "./report/summary-tables.ts";
import { printPipeline, writePipelineResults } from "./report/write-results.ts";

const repo = stackPaths().repo;
const log = (line: string) => process.stderr.write(`  bench     ${line}\n`);

function runId(): string {
  return new Date().toISOString().replace(/[:.]/g, "-").replace("Z", "");
}

let cleanup: (() => Promise<void>) | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping the services and the load generator ...`);
    void (cleanup?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

async function pipeline(options: BenchOptions, outDir: string): Promise<void> {
  const report = await runPipeline(options, outDir, runId(), { log, onCleanup: (fn) => (cleanup = fn) });
  const written = writePipelineResults(outDir, report, options.scenario === "pipeline" ? "pipeline" : options.scenario);
  process.stdout.write(`${printPipeline(report)}\n`);
  log(
    `written ${written
      .slice(0, 3)
      .map((file) => path.relative(repo, file))
      .join(", ")} (and a copy under runs/${report.runId}/)`,
  );
}

async function baselineOnly(options: BenchOptions, outDir: string): Promise<void> {
  const startedAt = Date.now();
  const generator = await LoadGenerator.start();
  cleanup = () => generator.close();
  try {
    const baseline = await runBaseline(generator, {
      rates: options.rates,
      stepSeconds: options.baselineStepSeconds,
      concurrency: options.baselineConcurrency,
      timeoutMs: options.timeoutMs,
      maxSockets: options.maxSockets,
      deadlineMs: startedAt + options.maxMinutes * 60_000,
      log,
    });
    const report = {
      benchmark: "baseline-sync",
      at: new Date(startedAt).toISOString(),
      durationSeconds: Math.round((Date.now() - startedAt) / 1000),
      baseline,
    };
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, "baseline-sync.json"), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(
      path.join(outDir, "baseline-sync.md"),
      `# baseline-sync\n\n${markdownTable(baselineTable(baseline))}\n\nSustained capacity: ${baseline.sustainedCapacity ?? "none"}\n`,
    );
    process.stdout.write(`${textTable(baselineTable(baseline))}\nsustained capacity: ${baseline.sustainedCapacity ?? "none"}\n`);
  } finally {
    await generator.close();
  }
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  const outDir = path.resolve(repo, options.out);
  switch (options.scenario) {
    case "accept":
      await import("./accept.ts");
      return;
    case "relay":
      await import("./relay.ts");
      return;
    case "profile-top":
      printProfileTop(options.rest, options.top);
      return;
    case "baseline-sync":
      await baselineOnly(options, outDir);
      return;
    case "pipeline":
    case "flash-sale":
    case "overload":
      await pipeline(options, outDir);
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = error instanceof HelpRequested ? 0 : 2;
    return;
  }
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
