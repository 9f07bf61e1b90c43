import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fetchWithTimeout, freePort, waitUntil } from "../../stack/process.ts";
import type { LoadGenerator } from "../load/load-generator.ts";
import type { LoadResult } from "../load/open-loop.ts";
import { cpuBetween, cpuSnapshot, type WatchedProcess } from "../measure/process-set.ts";
import { baselineVerdict, sustainedCapacity, type StepVerdict } from "../pipeline/step-verdict.ts";

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), "baseline-sync-server.ts");

/** The seeds' synchronous chain: inventory, payment, notification, called one after the other. */
export const CHAIN_MS = { inventory: 200, payment: 300, notification: 150 } as const;
const CHAIN_TOTAL_MS = CHAIN_MS.inventory + CHAIN_MS.payment + CHAIN_MS.notification;
/** p99 above this multiple of the chain means requests queue: the step is not sustained. */
const P99_SLACK = 1.5;

export interface BaselineOptions {
  rates: number[];
  stepSeconds: number;
  concurrency: number;
  timeoutMs: number;
  maxSockets: number;
  deadlineMs: number;
  log: (line: string) => void;
}

export interface BaselineStep {
  rate: number;
  seconds: number;
  accept: LoadResult;
  cpuSeconds: Record<string, number | null>;
  cpuSecondsPer1000Requests: number | null;
  verdict: StepVerdict;
}

export interface BaselineResult {
  chainMs: typeof CHAIN_MS & { total: number };
  concurrency: number;
  p99LimitMs: number;
  steps: BaselineStep[];
  notRun: Array<{ rate: number; why: string }>;
  sustainedCapacity: number | null;
}

function startServer(args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", SERVER, ...args], { stdio: ["ignore", "ignore", "inherit"] });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

const BODY = JSON.stringify({ customerId: "sync-1", currency: "EUR", items: [{ sku: "ESP-001", quantity: 1 }] });

/** The same open-loop staircase against the synchronous chain; stops at its first broken step. */
export async function runBaseline(generator: LoadGenerator, options: BaselineOptions): Promise<BaselineResult> {
  const [apiPort, downstreamPort] = [await freePort(), await freePort()];
  const downstream = startServer(["downstream", String(downstreamPort), String(CHAIN_MS.inventory), String(CHAIN_MS.payment), String(CHAIN_MS.notification)]);
  const api = startServer(["api", String(apiPort), String(downstreamPort), String(options.concurrency)]);
  const processes: WatchedProcess[] = [
    { name: "baseline-api", kind: "single", pid: () => api.pid },
    { name: "baseline-downstream", kind: "single", pid: () => downstream.pid },
    { name: "load-generator", kind: "single", pid: () => generator.pid },
  ];
  const steps: BaselineStep[] = [];
  const notRun: BaselineResult["notRun"] = [];
  try {
    for (const [port, child] of [
      [apiPort, api],
      [downstreamPort, downstream],
    ] as const) {
      await waitUntil("baseline-sync", "listening", async () => (await fetchWithTimeout(`http://127.0.0.1:${port}/healthz`, 1_000)).ok, {
        timeoutMs: 30_000,
        intervalMs: 200,
        ...(child.pid ? { pid: child.pid } : {}),
      });
    }
    const job = (rate: number, seconds: number) => ({
      url: `http://127.0.0.1:${apiPort}`,
      path: "/orders",
      method: "POST" as const,
      bodies: [BODY],
      headers: { "content-type": "application/json" },
      rate,
      seconds,
      timeoutMs: options.timeoutMs,
      maxSockets: options.maxSockets,
    });
    await generator.run(job(20, 3)); // warm-up (connections, JIT), not reported, as the pipeline has one
    for (const [index, rate] of options.rates.entries()) {
      if (Date.now() + (options.stepSeconds + 3) * 1000 > options.deadlineMs) {
        for (const skipped of options.rates.slice(index)) notRun.push({ rate: skipped, why: "time budget (--max-minutes)" });
        break;
      }
      options.log(`baseline-sync ${rate} requests/s for ${options.stepSeconds} s ...`);
      const before = cpuSnapshot(processes);
      const accept = await generator.run(job(rate, options.stepSeconds));
      const cpuSeconds = cpuBetween(before, cpuSnapshot(processes));
      const serverCpu = (cpuSeconds["baseline-api"] ?? 0) + (cpuSeconds["baseline-downstream"] ?? 0);
      const verdict = baselineVerdict({ non2xx: accept.non2xx, errors: accept.errors, p99Ms: accept.latencyMs.p99, chainMs: CHAIN_TOTAL_MS, slack: P99_SLACK });
      steps.push({
        rate,
        seconds: options.stepSeconds,
        accept,
        cpuSeconds,
        cpuSecondsPer1000Requests: accept.ok2xx > 0 ? Math.round((serverCpu / accept.ok2xx) * 1000 * 1000) / 1000 : null,
        verdict,
      });
      options.log(
        `baseline-sync ${rate}/s: p50 ${accept.latencyMs.p50} ms p99 ${accept.latencyMs.p99} ms, non-2xx ${accept.non2xx}, errors ${accept.errors}; ${verdict.sustained ? "sustained" : `broken: ${verdict.reasons.join("; ")}`}`,
      );
      if (!verdict.sustained) {
        for (const skipped of options.rates.slice(index + 1)) notRun.push({ rate: skipped, why: `a lower step broke (${rate}/s)` });
        break;
      }
    }
  } finally {
    await Promise.all([stopServer(api), stopServer(downstream)]);
  }
  return {
    chainMs: { ...CHAIN_MS, total: CHAIN_TOTAL_MS },
    concurrency: options.concurrency,
    p99LimitMs: CHAIN_TOTAL_MS * P99_SLACK,
    steps,
    notRun,
    sustainedCapacity: sustainedCapacity(steps),
  };
}
