/**
 * What one live-console sample costs the API process: CPU (user + system) and wall time of ConsoleSampler.sampleOnce
 * with the real sources (the monitor's lag report through a Kafka admin client, the order-flow statement, audit_runs),
 * against the stack and database of the environment. Prints the figures and writes bench-results/console-sample.json.
 *
 *   npx tsx scripts/bench/console-sample.ts [--samples 20]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { readLastAudit } from "../../services/order-api/console/audit-summary.ts";
import { ConsoleSampler } from "../../services/order-api/console/console-sampler.ts";
import { readOrderFlow } from "../../services/order-api/console/order-flow.ts";
import { createMonitorService } from "../../services/order-api/monitor/monitor-service.ts";
import { loadConfig } from "../../services/shared/config/load-config.ts";
import { createPrisma } from "../../services/shared/db/index.ts";

/** Past the monitor's 1 s report cache, so every sample pays for a full report (as at the 2 s default period). */
const GAP_MS = 1_100;

const { values } = parseArgs({ options: { samples: { type: "string", default: "20" } } });
const samples = Math.max(1, Number(values.samples));
const config = loadConfig();
const prisma = createPrisma(config.DATABASE_URL, { poolSize: 2, applicationName: "bench-console-sample" });
const monitor = createMonitorService(config, prisma);
const sampler = new ConsoleSampler(
  {
    lagReport: () => monitor.lagReport(),
    orderFlow: (from, to) => readOrderFlow(prisma, from, to),
    acceptBuckets: async () => ({ le: [Number.POSITIVE_INFINITY], counts: [0] }),
    lastAudit: () => readLastAudit(prisma),
  },
  { intervalMs: config.CONSOLE_SAMPLE_INTERVAL_MS, historyMs: config.CONSOLE_HISTORY_SECONDS * 1000, auditEvery: 1 },
);
try {
  await sampler.sampleOnce(); // connections and statement plans warm
  const wallMs: number[] = [];
  let cpuMicros = 0;
  for (let i = 0; i < samples; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, GAP_MS));
    const cpu = process.cpuUsage();
    const started = performance.now();
    await sampler.sampleOnce();
    wallMs.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
  }
  wallMs.sort((a, b) => a - b);
  const cpuMsPerSample = cpuMicros / samples / 1000;
  const result = {
    benchmark: "console-sample",
    at: new Date().toISOString(),
    samples,
    cpuMsPerSample: Number(cpuMsPerSample.toFixed(2)),
    wallMsP50: Number(wallMs[Math.floor(samples / 2)]!.toFixed(1)),
    wallMsMax: Number(wallMs[samples - 1]!.toFixed(1)),
    /** Share of one core at CONSOLE_SAMPLE_INTERVAL_MS. */
    coreShareAtPeriod: Number((cpuMsPerSample / config.CONSOLE_SAMPLE_INTERVAL_MS).toFixed(4)),
    periodMs: config.CONSOLE_SAMPLE_INTERVAL_MS,
  };
  const out = path.resolve(import.meta.dirname, "..", "..", "bench-results");
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "console-sample.json"), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await prisma.$disconnect();
}
process.exit(0);
