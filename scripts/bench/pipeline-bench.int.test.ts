// The pipeline benchmark end to end at a tiny rate against the real stack: every service started by the benchmark,
// one short step, and a results file with every figure the quoted table needs. Figures are not asserted (speed is
// never a test); their presence and their consistency with what was sent are.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { stackPaths } from "../stack/stack-config.ts";
import type { PipelineReport } from "./pipeline/pipeline-run.ts";

const repo = stackPaths().repo;
const out = mkdtempSync(path.join(os.tmpdir(), "orderflow-bench-"));

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(repo, "scripts/bench/cli.ts"), ...args], {
      cwd: repo,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk: Buffer) => (output += chunk.toString()));
    // SIGTERM goes through the benchmark's cleanup, which stops the services it started.
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const DATABASE = "orderflow_bench_int";

afterAll(async () => {
  rmSync(out, { recursive: true, force: true });
  // The benchmark stopped its services before it exited, so nothing holds the database any more.
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  } finally {
    await client.end();
  }
});

describe("npm run bench -- pipeline", () => {
  it("runs every service, loads them open-loop and writes the figures of each step", async () => {
    const args = ["pipeline", "--rates", "20", "--step-seconds", "5", "--warmup-seconds", "0", "--idle-seconds", "2", "--drain-seconds", "5", "--no-baseline"];
    args.push("--overload", "--overload-rate", "40", "--overload-seconds", "3", "--recovery-seconds", "4");
    const { code, output } = await runBench([...args, "--database", DATABASE, "--topic-prefix", "bench-int.", "--out", out], 280_000);
    expect(code, output).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, "pipeline.json"), "utf8")) as PipelineReport;
    expect(report.settings).toMatchObject({ rates: [20], stepSeconds: 5, database: DATABASE, topicPrefix: "bench-int.", tracing: true });
    expect(report.services).toEqual(expect.arrayContaining(["order-api", "outbox-relay", "inventory", "payment", "order-state", "notification"]));
    expect(report.steps).toHaveLength(1);
    const [step] = report.steps;
    expect(step!.rate).toBe(20);
    expect(step!.accept.sent).toBe(100);
    expect(step!.accept.ok2xx + step!.accept.non2xx + step!.accept.errors).toBe(100);
    for (const key of ["p50", "p99", "p999"] as const) expect(step!.accept.latencyMs[key]).toEqual(expect.any(Number));
    expect(step!.completion.placed).toBeGreaterThan(0);
    expect(step!.completion.placed).toBeLessThanOrEqual(100);
    expect(step!.completion).toHaveProperty("placedToConfirmedMs.p50");
    expect(step!.completion).toHaveProperty("placedToConfirmedMs.p99");
    // Lag counts deliveries (a record once per group reading its topic), the backlog outbox rows: several per order.
    expect(step!.lag.arrivalsPerSecond).toBeGreaterThan(20);
    expect(step!.backlog.arrivalsPerSecond).toBeGreaterThan(20);
    for (const queue of [step!.lag, step!.backlog])
      expect(queue).toMatchObject({ bound: Math.max(50, Math.ceil(queue.arrivalsPerSecond)), flat: expect.any(Boolean) });
    expect(step!.series.length).toBeGreaterThan(0);
    for (const process of [...report.services, "postgres", "kafka", "registry", "jaeger", "load-generator"]) {
      expect(step!.cpuSeconds[process], process).toEqual(expect.any(Number));
      expect(step!.cpuSecondsPer1000Orders[process], process).toEqual(expect.any(Number));
      expect(step!.peakMemoryMb[process], process).toBeGreaterThan(0);
    }
    expect(step!.cpuSecondsPer1000OrdersTotal).toBeGreaterThan(0);
    expect(report.idle).toMatchObject({ seconds: 2 });
    for (const process of [...report.services, "postgres", "kafka"]) expect(report.idle!.coresByProcess[process], process).toEqual(expect.any(Number));
    expect(report.idle!.systemCores).toBeGreaterThan(0);
    expect(step!.accept.cpuSeconds).toBeGreaterThan(0);
    expect(step!.verdict).toMatchObject({ sustained: expect.any(Boolean), reasons: expect.any(Array) });
    expect(report.sustainedCapacity === null || report.sustainedCapacity === 20).toBe(true);
    const overload = report.overload!;
    expect(overload).toMatchObject({ rate: 40, seconds: 3, probeRate: 5, lost: 0, notTerminal: 0 });
    expect(overload.overload.sent).toBe(120);
    expect(overload.accepted + overload.shed503 + overload.otherNon2xx + overload.unanswered).toBe(120);
    expect(overload.accepted).toBeGreaterThan(0);
    expect(overload.recovery.answers!.perSecondP99).toHaveLength(4);
    expect(overload.verdict).toMatchObject({ ok: expect.any(Boolean), reasons: expect.any(Array) });
    expect(readFileSync(path.join(out, "pipeline.md"), "utf8")).toContain("| orders/s |");
    expect(readFileSync(path.join(out, "pipeline.md"), "utf8")).toContain("## Overload and recovery");
    expect(readFileSync(path.join(out, "pipeline.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>$/);
  }, 300_000);
});
