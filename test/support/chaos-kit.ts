/**
 * The chaos tier's machinery: the whole pipeline as `npm start` runs it, with a fault between it and every
 * dependency, an open-loop load, and the audit at the end of each scenario.
 *
 *   const chaos = await startPipeline({ name: "faults" });       // services, proxies, a broker of its own
 *   const row = await chaos.runScenario("relay-kill", async () => { await chaos.kill("outbox-relay"); });
 *   expect(row).toMatchObject({ lost: 0, duplicateEffects: 0, orderViolations: 0, auditOk: true });
 *   await chaos.stop();
 *
 * - startPipeline(options): a database of its own (so the audit sees only this run), every service a child
 *   process (test/support/pipeline.ts, the compiled entry points npm start runs; consumers with the profile's
 *   instance count), restarted like npm start's
 *   supervisor restarts a crashed instance; PostgreSQL, Kafka (a dedicated broker, test/support/chaos/dedicated-kafka.ts),
 *   the registry and Jaeger's OTLP port each behind a TcpProxy (`chaos.proxies`), so no scenario stops the shared
 *   stack. options.kafkaBrokers replaces the dedicated broker (a cluster scenario brings its own).
 * - openLoopLoad({ rate, seconds }): orders at a fixed rate (test/support/chaos/order-load.ts).
 * - kill(service, i), freeze(service, ms, i): SIGKILL; SIGSTOP then SIGCONT.
 * - waitForRecovery(ids): every order finished, the outbox published, every group's lag 0 (bounded).
 * - runAudit(): scripts/audit over the pipeline's database and topics.
 * - runScenario(name, fault): load, fault, recovery, audit; returns the report row and appends it to
 *   test-artifacts/chaos/<profile>.json.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { runAudit as auditRun } from "../../scripts/audit/run-audit.ts";
import type { AuditVerdict } from "../../scripts/audit/verdict.ts";
import type { CheckCode } from "../../scripts/audit/audit-checks.ts";
import { CONSUMER_EXPECTATIONS } from "../../scripts/audit/kafka-reconcile.ts";
import { createPrisma } from "../../services/shared/db/index.ts";
import { fetchGroupOffsets, fetchTopicOffsets, withAdmin } from "../../services/shared/kafka/kafka-admin.ts";
import { chaosProfile, type ChaosProfile } from "./chaos/chaos-profile.ts";
import { startDedicatedKafka, type DedicatedKafka } from "./chaos/dedicated-kafka.ts";
import { openLoopLoad, type LoadResult, type LoadRun, type OrderBody } from "./chaos/order-load.ts";
import { TcpProxy } from "./chaos/tcp-proxy.ts";
import { createProducts } from "./order-fixtures.ts";
import { ALL_SERVICES, Pipeline, pollUntil, type ConsumerService, type PipelineService } from "./pipeline.ts";
import type { ServiceProcess } from "./service-process.ts";
import { startDedicatedPostgres, type DedicatedPostgres } from "./dedicated-stack.ts";
import { useIsolatedDatabase } from "./stack-test-kit.ts";

export { chaosProfile, selectedScenarios, type ChaosProfile } from "./chaos/chaos-profile.ts";
export { TcpProxy } from "./chaos/tcp-proxy.ts";

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const SKUS = ["CHAOS-A", "CHAOS-B", "CHAOS-C"];
const STOCK_PER_SKU = 1_000_000;
/** npm start's supervisor restarts a crashed instance after 1 s (then 2, 4, ...); bounded the same way. */
const RESTART_DELAY_MS = 1_000;
const MAX_RESTARTS = 20;

/** Audit codes that mean an accepted order or one of its events went missing. */
const LOST_CODES: readonly CheckCode[] = [
  "ORDER_STUCK",
  "STOCK_OUTCOME_MISSING",
  "PAYMENT_OUTCOME_MISSING",
  "NOTIFICATION_MISSING",
  "EVENT_MISSING",
  "OUTBOX_FAILED",
  "OUTBOX_UNPUBLISHED",
  "EVENT_NOT_ON_TOPIC",
  "INBOX_GAP",
  "EVENT_DEAD_LETTERED",
];
/** Audit codes that mean an effect was applied more than once. */
const DUPLICATE_CODES: readonly CheckCode[] = [
  "NOTIFICATION_DUPLICATED",
  "EVENT_DUPLICATED",
  "RESERVATION_MISMATCH",
  "STATUS_HISTORY_MISMATCH",
  "STOCK_NOT_CONSERVED",
  "STOCK_RESERVED_MISMATCH",
];
const ORDER_CODES: readonly CheckCode[] = ["EVENT_OUT_OF_ORDER", "KEY_SPLIT_ACROSS_PARTITIONS"];

export interface ScenarioRow {
  scenario: string;
  profile: ChaosProfile["name"];
  offered: number;
  accepted: number;
  /** Refused answers (503 while the database was cut, 429, ...) and requests without an answer. */
  refused: number;
  /** The refusals by status (503: shed or the database unreachable; see docs/http-api.md). */
  refusedByStatus: Record<string, number>;
  unanswered: number;
  /** Accepted orders missing or unfinished, plus the audit's lost-event findings. */
  lost: number;
  duplicateEffects: number;
  orderViolations: number;
  /** From the fault's end to every order finished and every group caught up. */
  recoverMs: number;
  acceptP99Ms: number | null;
  auditOk: boolean;
  /** Every violated check with its count. */
  violations: Record<string, number>;
}

export interface ChaosOptions {
  name: string;
  /** Instances per service (consumers: the profile's consumerInstances by default). */
  instances?: Partial<Record<PipelineService, number>>;
  env?: Record<string, string>;
  /** Use these brokers instead of a dedicated broker behind a proxy (then `proxies.kafka` is undefined). */
  kafkaBrokers?: string;
}

function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString().replace(/\/$/, "");
}

const count = (verdict: AuditVerdict, codes: readonly CheckCode[]): number =>
  verdict.checks.filter((c) => codes.includes(c.code)).reduce((sum, c) => sum + c.count, 0);

export class ChaosPipeline {
  readonly profile = chaosProfile();
  readonly restarts: string[] = [];
  private readonly desired = new Map<PipelineService, number>();
  private readonly watchdog: NodeJS.Timeout;
  private supervising = false;
  private stopping = false;
  private orderIndex = 0;

  /** Use startPipeline(). */
  constructor(
    readonly pipeline: Pipeline,
    /** Direct to the database, past the proxy: the test's own reads never suffer the faults. */
    readonly db: pg.Pool,
    readonly databaseUrl: string,
    readonly kafkaBrokers: string,
    readonly proxies: { postgres: TcpProxy; registry: TcpProxy; otlp: TcpProxy; kafka: TcpProxy | undefined },
    private readonly cleanup: Array<() => Promise<void>>,
    /** The PostgreSQL server behind the proxy: the tier's own. */
    private readonly postgresServer: DedicatedPostgres,
  ) {
    for (const service of ALL_SERVICES) this.desired.set(service, pipeline.instances(service).length);
    this.watchdog = setInterval(() => void this.supervise(), 500);
  }

  get baseUrl(): string {
    return this.pipeline.baseUrl;
  }

  /**
   * PostgreSQL crashed (pg_ctl -m immediate: every backend killed, no checkpoint) and started again after `downMs`
   * (crash recovery replays the WAL): what committed must still be there, what was in flight is rolled back.
   */
  async restartPostgres(downMs: number): Promise<void> {
    await this.postgresServer.crash();
    await sleep(downMs);
    await this.postgresServer.start();
  }

  /** Restarts instances that exited (as npm start's supervisor does) until each service has its desired count. */
  private async supervise(): Promise<void> {
    if (this.supervising || this.stopping) return;
    this.supervising = true;
    try {
      for (const [service, want] of this.desired) {
        const missing = want - this.pipeline.instances(service).length;
        if (missing <= 0 || this.restarts.length >= MAX_RESTARTS) continue;
        await sleep(RESTART_DELAY_MS);
        if (this.stopping) return;
        this.restarts.push(`${service} at ${new Date().toISOString()}`);
        await this.pipeline.startService(service, missing, { waitForGroup: false });
      }
    } catch (error) {
      this.restarts.push(`restart failed: ${String(error)}`);
    } finally {
      this.supervising = false;
    }
  }

  /** Sets how many instances of `service` the watchdog keeps; more are started (not waiting for the group), fewer stopped with SIGTERM. */
  async scale(service: PipelineService, instances: number): Promise<void> {
    this.desired.set(service, instances);
    const running = this.pipeline.instances(service);
    if (running.length < instances) await this.pipeline.startService(service, instances - running.length, { waitForGroup: false });
    for (const extra of running.slice(instances)) await extra.stop(15_000);
  }

  /** How many instances of `service` the watchdog keeps running. */
  instanceCount(service: PipelineService): number {
    return this.desired.get(service) ?? 0;
  }

  /** SIGKILL the i-th running instance; the watchdog starts a new one. */
  async kill(service: PipelineService, index = 0): Promise<void> {
    const victim = this.pipeline.instances(service)[index];
    if (!victim) throw new Error(`no running ${service} instance ${index}`);
    await victim.kill();
  }

  /** SIGSTOP the i-th running instance for `ms`, then SIGCONT: a process that freezes and wakes up mid-work. */
  async freeze(service: PipelineService, ms: number, index = 0): Promise<void> {
    const victim = this.pipeline.instances(service)[index];
    if (!victim) throw new Error(`no running ${service} instance ${index}`);
    victim.child.kill("SIGSTOP");
    try {
      await sleep(ms);
    } finally {
      victim.child.kill("SIGCONT");
    }
  }

  /**
   * Replaces every instance of `service` by ones with `env` added (the payment provider's fault settings): new ones
   * first, then the old ones drained (SIGTERM); returns once the group is Stable with only the new ones.
   */
  async replaceWith(service: ConsumerService, env: Record<string, string>): Promise<ServiceProcess[]> {
    const old = this.pipeline.instances(service);
    this.desired.set(service, 0);
    const fresh = await this.pipeline.startService(service, old.length, { env, waitForGroup: false });
    await Promise.all(old.map((instance) => instance.stop(15_000)));
    this.desired.set(service, fresh.length);
    await this.pipeline.waitForGroup(service, fresh.length, 60_000);
    return fresh;
  }

  /** Mixed orders: every tenth from a customer the provider declines (cancellation, stock release, void path). */
  orderBody(): OrderBody {
    const i = (this.orderIndex += 1);
    const customerId = i % 10 === 0 ? `decline-chaos-${i}` : `chaos-${i}`;
    return {
      customerId,
      currency: "EUR",
      items: [{ sku: SKUS[i % SKUS.length]!, quantity: 1 + (i % 2) }, ...(i % 3 === 0 ? [{ sku: SKUS[(i + 1) % SKUS.length]!, quantity: 1 }] : [])],
    };
  }

  openLoopLoad(options: { rate: number; seconds: number }): LoadRun {
    return openLoopLoad(this.baseUrl, { ...options, body: () => this.orderBody() });
  }

  /** Sum over every group of end offset minus committed offset, on the topics it reads. */
  async consumerLag(): Promise<number> {
    return withAdmin(this.pipeline.kafka, async (admin) => {
      let lag = 0;
      for (const consumer of CONSUMER_EXPECTATIONS) {
        const topics = consumer.topics.map((topic) => `${this.pipeline.config.TOPIC_PREFIX}${topic}`);
        const committed = await fetchGroupOffsets(admin, `${this.pipeline.config.TOPIC_PREFIX}${consumer.group}`, topics);
        for (const topic of topics) {
          for (const end of await fetchTopicOffsets(admin, topic)) {
            const at = committed.find((c) => c.topic === topic && c.partition === end.partition)?.offset ?? -1;
            lag += end.high - (at >= 0 ? at : end.low);
          }
        }
      }
      return lag;
    });
  }

  /** Waits (bounded) until every order is CONFIRMED or CANCELLED, the outbox is published and no group lags. */
  async waitForRecovery(accepted: readonly string[], timeoutMs = this.profile.recoverTimeoutMs): Promise<void> {
    let last = "";
    await pollUntil(
      async () => {
        const { rows } = await this.db.query<{ missing: string; pending: string; unpublished: string }>(
          `SELECT (SELECT count(*) FROM unnest($1::uuid[]) AS a(id) WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = a.id)) AS missing,
                  (SELECT count(*) FROM orders WHERE status = 'PENDING') AS pending,
                  (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS unpublished`,
          [accepted],
        );
        const row = rows[0]!;
        last = `missing ${row.missing}, pending ${row.pending}, unpublished outbox ${row.unpublished}`;
        if (Number(row.missing) > 0 || Number(row.pending) > 0 || Number(row.unpublished) > 0) return undefined;
        const lag = await this.consumerLag();
        last += `, lag ${lag}`;
        return lag === 0 ? true : undefined;
      },
      timeoutMs,
      () => `recovery (${last})`,
      500,
    );
  }

  /** The audit over this pipeline's database and topics, strict: the system is quiet, so every effect is owed. */
  runAudit(): Promise<AuditVerdict> {
    const { config } = this.pipeline;
    return auditRun({
      databaseUrl: this.databaseUrl,
      kafkaBrokers: this.kafkaBrokers,
      topicPrefix: config.TOPIC_PREFIX,
      since: new Date(0),
      stuckAfterSeconds: 0,
      outboxRetentionHours: config.OUTBOX_RETENTION_HOURS,
      inboxRetentionHours: config.INBOX_RETENTION_HOURS,
      limit: 5,
      kafka: true,
      kafkaTimeoutMs: 120_000,
      statementTimeoutMs: 60_000,
    });
  }

  /**
   * One scenario: load for settle + fault + settle, the fault injected once the load is under way (`fault`
   * resolves when it has healed), then recovery and the audit. The row is appended to the profile's report.
   */
  async runScenario(scenario: string, fault: (load: LoadRun) => Promise<void>, faultMs: number): Promise<ScenarioRow> {
    const { rate, settleMs } = this.profile;
    const load = this.openLoopLoad({ rate, seconds: (2 * settleMs + faultMs) / 1000 });
    await sleep(settleMs);
    await fault(load);
    const healedAt = Date.now();
    const result: LoadResult = await load.done;
    let recovered = true;
    try {
      await this.waitForRecovery(result.accepted);
    } catch (error) {
      recovered = false;
      console.error(`${scenario}: ${String(error)}`);
    }
    const recoverMs = Date.now() - healedAt;
    const verdict = await this.runAudit();
    const { rows } = await this.db.query<{ lost: string }>(
      "SELECT count(*) AS lost FROM unnest($1::uuid[]) AS a(id) WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = a.id AND o.status IN ('CONFIRMED', 'CANCELLED'))",
      [result.accepted],
    );
    const violations = Object.fromEntries(verdict.checks.filter((c) => c.severity === "violation" && c.count > 0).map((c) => [c.code, c.count]));
    const row: ScenarioRow = {
      scenario,
      profile: this.profile.name,
      offered: result.offered,
      accepted: result.accepted.length,
      refused: Object.values(result.refused).reduce((a, b) => a + b, 0),
      refusedByStatus: result.refused,
      unanswered: result.unanswered,
      lost: Number(rows[0]!.lost) + count(verdict, LOST_CODES),
      duplicateEffects: count(verdict, DUPLICATE_CODES),
      orderViolations: count(verdict, ORDER_CODES),
      recoverMs: recovered ? recoverMs : -1,
      acceptP99Ms: result.acceptP99Ms,
      auditOk: verdict.ok,
      violations,
    };
    if (!verdict.ok)
      console.error(
        `${scenario}: audit found ${JSON.stringify(
          verdict.checks.filter((c) => c.count > 0 && c.severity === "violation"),
          null,
          1,
        ).slice(0, 4000)}`,
      );
    appendReport(row);
    console.log(`chaos ${scenario}: ${JSON.stringify(row)}`);
    return row;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.watchdog);
    for (const proxy of Object.values(this.proxies)) {
      proxy?.heal();
      proxy?.setLatency(0);
    }
    await this.pipeline.stop().catch((error: unknown) => console.error(`pipeline stop: ${String(error)}`));
    for (const step of this.cleanup.reverse()) await step().catch((error: unknown) => console.error(`chaos cleanup: ${String(error)}`));
  }
}

function reportPath(profile: string): string {
  return path.join(repo, "test-artifacts", "chaos", `${profile}.json`);
}

function appendReport(row: ScenarioRow): void {
  const file = reportPath(row.profile);
  mkdirSync(path.dirname(file), { recursive: true });
  const rows = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ScenarioRow[]).filter((r) => r.scenario !== row.scenario) : [];
  writeFileSync(file, `${JSON.stringify([...rows, row], null, 2)}\n`);
}

/** The report rows as a markdown table (what the tier prints at the end). */
export function reportTable(rows: readonly ScenarioRow[]): string {
  const head =
    "| scenario | offered | accepted | refused/unanswered | lost | duplicate effects | order violations | time to recover | audit |\n|---|---|---|---|---|---|---|---|---|";
  const lines = rows.map(
    (r) =>
      `| ${r.scenario} | ${r.offered} | ${r.accepted} | ${r.refused}/${r.unanswered} | ${r.lost} | ${r.duplicateEffects} | ${r.orderViolations} | ${r.recoverMs < 0 ? "not recovered" : `${(r.recoverMs / 1000).toFixed(1)} s`} | ${r.auditOk ? "green" : `red ${JSON.stringify(r.violations)}`} |`,
  );
  return [head, ...lines].join("\n");
}

/** Starts everything (see the module comment). On failure, whatever started is stopped again. */
export async function startPipeline(options: ChaosOptions): Promise<ChaosPipeline> {
  const cleanup: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  };
  // The broker's JVM takes the longest to start: it comes up while the database is made.
  const brokerStarting = options.kafkaBrokers ? Promise.resolve(undefined) : startDedicatedKafka();
  // A PostgreSQL of the tier's own, so postgres-restart can crash a real server (the shared one serves npm start).
  const postgresStarting = startDedicatedPostgres("chaos-postgres");
  try {
    const server = await postgresStarting;
    cleanup.push(server.stop);
    const database = await useIsolatedDatabase(`chaos_${options.name}`, server.url);
    cleanup.push(database.drop);
    const directUrl = database.url;
    const postgres = await TcpProxy.start({ targetPort: Number(new URL(directUrl).port || 5432) });
    cleanup.push(() => postgres.close());
    const registryUrl = process.env.SCHEMA_REGISTRY_URL || "http://127.0.0.1:8081/apis/ccompat/v7";
    const registry = await TcpProxy.start({ targetPort: Number(new URL(registryUrl).port) });
    cleanup.push(() => registry.close());
    const otlpUrl = process.env.OTEL_EXPORTER_OTLP_ENDPOINT || "http://127.0.0.1:4317";
    const otlp = await TcpProxy.start({ targetPort: Number(new URL(otlpUrl).port) });
    cleanup.push(() => otlp.close());
    const broker: DedicatedKafka | undefined = await brokerStarting;
    if (broker) cleanup.push(broker.stop);
    const kafkaBrokers = options.kafkaBrokers ?? broker!.brokers;
    const prisma = createPrisma(directUrl, { poolSize: 2, applicationName: "chaos-setup" });
    await createProducts(
      prisma,
      SKUS.map((sku) => ({ sku, priceMinor: 1_250, stock: STOCK_PER_SKU })),
    );
    await prisma.$disconnect();
    const consumers = chaosProfile().consumerInstances;
    const pipeline = await Pipeline.start({
      name: `chaos-${options.name}`,
      instances: { inventory: consumers, payment: consumers, "order-state": consumers, notification: consumers, ...options.instances },
      env: {
        DATABASE_URL: withPort(directUrl, postgres.port),
        KAFKA_BROKERS: kafkaBrokers,
        SCHEMA_REGISTRY_URL: withPort(registryUrl, registry.port),
        // Tracing on, as npm start runs it, through a proxy the Jaeger scenario cuts.
        OTEL_SDK_DISABLED: "false",
        OTEL_EXPORTER_OTLP_ENDPOINT: withPort(otlpUrl, otlp.port),
        // A killed or frozen consumer's partitions move to its partner within seconds.
        CONSUMER_SESSION_TIMEOUT_MS: "8000",
        CONSUMER_HEARTBEAT_INTERVAL_MS: "500",
        ...options.env,
      },
    });
    const db = new pg.Pool({ connectionString: directUrl, max: 3, connectionTimeoutMillis: 5_000, statement_timeout: 60_000 });
    db.on("error", () => undefined); // idle clients die when postgres-restart crashes the server; queries reconnect
    cleanup.push(() => db.end());
    return new ChaosPipeline(pipeline, db, directUrl, kafkaBrokers, { postgres, registry, otlp, kafka: broker?.proxy }, cleanup, server);
  } catch (error) {
    const broker = await brokerStarting.catch(() => undefined);
    if (broker && !cleanup.includes(broker.stop)) cleanup.push(broker.stop);
    const server = await postgresStarting.catch(() => undefined);
    if (server && !cleanup.includes(server.stop)) cleanup.unshift(server.stop);
    await undo();
    throw error;
  }
}
