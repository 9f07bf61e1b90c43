// One-off: CPU and wall time per console sample with the real sources (lag report via Kafka admin, outbox SQL, audit_runs).
import { loadConfig } from "./services/shared/config/load-config.ts";
import { createPrisma } from "./services/shared/db/index.ts";
import { createMonitorService } from "./services/order-api/monitor/monitor-service.ts";
import { ConsoleSampler } from "./services/order-api/console/console-sampler.ts";
import { readOrderFlow } from "./services/order-api/console/order-flow.ts";
import { readLastAudit } from "./services/order-api/console/audit-summary.ts";
const config = loadConfig();
const prisma = createPrisma(config.DATABASE_URL, { poolSize: 2, applicationName: "console-cost" });
const monitor = createMonitorService(config, prisma);
const sampler = new ConsoleSampler({ lagReport: () => monitor.lagReport(), orderFlow: (f, t) => readOrderFlow(prisma, f, t), acceptBuckets: async () => ({ le: [Infinity], counts: [0] }), lastAudit: () => readLastAudit(prisma) }, { intervalMs: 2000, historyMs: 900_000 });
await sampler.sampleOnce(); await sampler.sampleOnce(); // warm up connections
const n = Number(process.argv[2] ?? 20);
const walls: number[] = []; let cpu = 0;
for (let i = 0; i < n; i++) {
  await new Promise((r) => setTimeout(r, 1100)); // past the monitor's 1 s cache, as with a 2 s period
  const c = process.cpuUsage(); const t = performance.now();
  await sampler.sampleOnce();
  walls.push(performance.now() - t); const d = process.cpuUsage(c); cpu += d.user + d.system;
}
walls.sort((a, b) => a - b);
console.log(JSON.stringify({ samples: n, cpuMsPerSample: +(cpu / n / 1000).toFixed(2), wallMsP50: +walls[Math.floor(n / 2)]!.toFixed(1), wallMsMax: +walls[n - 1]!.toFixed(1), cpuShareOfOneCoreAt2s: +((cpu / n / 1000) / 2000 * 100).toFixed(2) + "%" }));
await prisma.$disconnect(); process.exit(0);
