/**
 * `npm run bench:accept`: drives POST /orders of a spawned order API (the real entry point, its own process) on
 * the dev database with autocannon and prints requests/s and p50/p99 latency per scenario; the figures go to
 * bench-results/accept.json. A benchmark, not a test: it asserts nothing, and it deletes the orders it created.
 *
 * BENCH_CONNECTIONS (default 20), BENCH_DURATION_SECONDS (10), BENCH_LOG_LEVEL (warn), BENCH_TELEMETRY=1 to keep
 * OpenTelemetry on (off by default so the figure is the accept path alone).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { loadConfig } from "../../services/shared/config/load-config.ts";
import { createPrisma, describeDatabaseUrl, type PrismaClient } from "../../services/shared/db/index.ts";
import { applyMigrations } from "../db/migrate.ts";
import { seedCatalogue } from "../db/seed.ts";
import { fetchWithTimeout, freePort, isAlive, waitUntil } from "../stack/process.ts";
import { stackPaths } from "../stack/stack-config.ts";

const BENCH_PREFIX = "bench-";
const repo = stackPaths().repo;

interface Scenario {
  name: string;
  description: string;
  idempotencyKey: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: "plain", description: "POST /orders, 1-3 lines", idempotencyKey: false },
  { name: "idempotency-key", description: "POST /orders, 1-3 lines, a fresh Idempotency-Key per request", idempotencyKey: true },
];

function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

function startApi(port: number, databaseUrl: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repo, "services", "order-api", "main.ts")], {
    cwd: repo,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      API_HOST: "127.0.0.1",
      API_PORT: String(port),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      OTEL_SDK_DISABLED: process.env.BENCH_TELEMETRY === "1" ? "false" : "true",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return child;
}

async function stopApi(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

function orderBodies(skus: string[], currency: string): () => string {
  return () => {
    const lines = 1 + Math.floor(Math.random() * Math.min(3, skus.length));
    const start = Math.floor(Math.random() * skus.length);
    const items = Array.from({ length: lines }, (_, i) => ({ sku: skus[(start + i) % skus.length]!, quantity: 1 + Math.floor(Math.random() * 3) }));
    return JSON.stringify({ customerId: `${BENCH_PREFIX}${Math.floor(Math.random() * 1000)}`, currency, items });
  };
}

async function runScenario(baseUrl: string, scenario: Scenario, body: () => string, connections: number, duration: number): Promise<AutocannonResult> {
  return autocannon({
    url: baseUrl,
    connections,
    duration,
    timeout: 10,
    requests: [
      {
        method: "POST",
        path: "/orders",
        setupRequest: (request) => ({
          ...request,
          body: body(),
          headers: { "content-type": "application/json", ...(scenario.idempotencyKey ? { "idempotency-key": `${BENCH_PREFIX}${randomUUID()}` } : {}) },
        }),
      },
    ],
  });
}

type AutocannonResult = autocannon.Result;

function summarize(scenario: Scenario, result: AutocannonResult) {
  return {
    scenario: scenario.name,
    description: scenario.description,
    connections: result.connections,
    durationSeconds: result.duration,
    requestsPerSecond: Math.round(result.requests.average),
    totalRequests: result.requests.total,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: Number(result.latency.mean.toFixed(2)),
    },
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0])),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Bench orders would otherwise be published by a running relay and processed by every consumer. */
async function deleteBenchRows(prisma: PrismaClient): Promise<number> {
  const orders = await prisma.order.findMany({ where: { customerId: { startsWith: BENCH_PREFIX } }, select: { id: true } });
  const ids = orders.map((order) => order.id);
  for (let i = 0; i < ids.length; i += 5000) {
    const chunk = ids.slice(i, i + 5000);
    await prisma.outbox.deleteMany({ where: { key: { in: chunk }, publishedAt: null } });
    await prisma.order.deleteMany({ where: { id: { in: chunk } } });
  }
  await prisma.idempotencyKey.deleteMany({ where: { key: { startsWith: BENCH_PREFIX } } });
  return ids.length;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const connections = envInt("BENCH_CONNECTIONS", 20);
  const duration = envInt("BENCH_DURATION_SECONDS", 10);
  await applyMigrations(config.DATABASE_URL);
  const prisma = createPrisma(config.DATABASE_URL, { poolSize: 2 });
  let api: ChildProcess | undefined;
  try {
    await seedCatalogue(prisma);
    const products = await prisma.product.findMany({ where: { active: true }, select: { sku: true, currency: true } });
    const currency = products[0]?.currency ?? "EUR";
    const skus = products.filter((product) => product.currency === currency).map((product) => product.sku);
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    api = startApi(port, config.DATABASE_URL);
    const pid = api.pid;
    await waitUntil("bench", "answering /livez", async () => (await fetchWithTimeout(`${baseUrl}/livez`, 1000)).ok, {
      timeoutMs: 60_000,
      intervalMs: 200,
      ...(pid !== undefined ? { pid } : {}),
    });
    if (pid !== undefined && !isAlive(pid)) throw new Error("the order API exited during start");

    const body = orderBodies(skus, currency);
    process.stderr.write(`  bench     warming up (3 s) against ${baseUrl} on ${describeDatabaseUrl(config.DATABASE_URL)}\n`);
    await runScenario(baseUrl, SCENARIOS[0]!, body, connections, 3);
    const results = [];
    for (const scenario of SCENARIOS) {
      process.stderr.write(`  bench     ${scenario.name}: ${connections} connections for ${duration} s ...\n`);
      results.push(summarize(scenario, await runScenario(baseUrl, scenario, body, connections, duration)));
    }
    const report = {
      benchmark: "accept",
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", node: process.version },
      database: describeDatabaseUrl(config.DATABASE_URL),
      poolSize: config.DATABASE_POOL_SIZE,
      telemetry: process.env.BENCH_TELEMETRY === "1",
      results,
    };
    const out = path.join(repo, "bench-results", "accept.json");
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    for (const r of results) {
      process.stdout.write(
        `${r.scenario.padEnd(16)} ${String(r.requestsPerSecond).padStart(6)} req/s   p50 ${r.latencyMs.p50} ms   p99 ${r.latencyMs.p99} ms   ` +
          `(${r.totalRequests} requests, non-2xx ${r.non2xx}, errors ${r.errors})\n`,
      );
    }
    process.stdout.write(`written ${path.relative(repo, out)}\n`);
  } finally {
    if (api) await stopApi(api);
    const deleted = await deleteBenchRows(prisma).catch(() => -1);
    process.stderr.write(`  bench     removed ${deleted} benchmark orders\n`);
    await prisma.$disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:accept failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
