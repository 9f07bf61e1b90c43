/**
 * The whole pipeline for end-to-end tests: every service as its own child process (order-api, outbox-relay,
 * inventory, payment, order-state, notification; consumers with N instances if asked) on the real stack, with a
 * unique TOPIC_PREFIX and a free API port, so each test file has its own topics. start() returns once the API
 * answers, the relay runs and every consumer group is Stable with its partitions assigned; stop() drains them
 * (SIGTERM, bounded) and deletes the file's topics.
 */
import { randomBytes } from "node:crypto";
import { freePort } from "../../scripts/stack/process.ts";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations } from "../../scripts/db/migrate.ts";
import type { AppConfig } from "../../services/shared/config/config-schema.ts";
import { loadConfig, topicName } from "../../services/shared/config/load-config.ts";
import { createPrisma, type PrismaClient } from "../../services/shared/db/index.ts";
import { allTopicNames } from "../../services/shared/events/topic-catalogue.ts";
import { deleteTopics, describeGroups, withAdmin, type GroupDescription } from "../../services/shared/kafka/kafka-admin.ts";
import { createKafka, parseBrokers } from "../../services/shared/kafka/kafka-client.ts";
import type { Kafka } from "../../services/shared/kafka/kafka-types.ts";
import { ServiceProcess } from "./service-process.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const CONSUMER_GROUPS = { inventory: "inventory", payment: "payment", "order-state": "order-state", notification: "notification" } as const;
export type ConsumerService = keyof typeof CONSUMER_GROUPS;
export type PipelineService = "order-api" | "outbox-relay" | ConsumerService;
export const ALL_SERVICES: readonly PipelineService[] = ["order-api", "outbox-relay", "inventory", "payment", "order-state", "notification"];

// Generous: on a saturated 2-core machine, nine services starting at once each take tens of seconds to come up.
const READY_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 15_000;
const HTTP_TIMEOUT_MS = 40_000;

export interface PipelineOptions {
  /** Short name: goes into the topic prefix and the log directory. */
  name: string;
  /** Extra environment for every service (e.g. PAYMENT_DECLINE_ABOVE_MINOR). */
  env?: Record<string, string>;
  /** Services started by start(); all by default. */
  services?: readonly PipelineService[];
  /** Instances per service (1 by default). */
  instances?: Partial<Record<PipelineService, number>>;
  /** Bound on each service becoming ready (60 s by default; a fault test beside three brokers may need more). */
  readyTimeoutMs?: number;
}

async function pollUntil<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string | (() => string), everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}${lastError ? ` (last error: ${String(lastError)})` : ""}`,
      );
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export class Pipeline {
  private readonly processes = new Map<PipelineService, ServiceProcess[]>();
  private started = 0;
  private readyTimeoutMs = READY_TIMEOUT_MS;
  readonly kafka: Kafka;
  readonly prisma: PrismaClient;

  private constructor(
    readonly name: string,
    readonly config: AppConfig,
    private readonly env: NodeJS.ProcessEnv,
    readonly logDir: string,
  ) {
    this.kafka = createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: `e2e-${name}`, logLevel: "nothing" });
    this.prisma = createPrisma(config.DATABASE_URL, { poolSize: 5, applicationName: `e2e-${name}` });
  }

  static async start(options: PipelineOptions): Promise<Pipeline> {
    const databaseUrl = process.env.DATABASE_URL || "postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow_test";
    await applyMigrations(databaseUrl, { log: () => undefined });
    const tag = `${options.name}-${randomBytes(3).toString("hex")}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TOPIC_PREFIX: `e2e.${tag}.`,
      API_HOST: "127.0.0.1",
      API_PORT: String(await freePort()),
      // Traces are not what these tests check; exporting them would only compete for the 2 cores.
      OTEL_SDK_DISABLED: "true",
      LOG_LEVEL: "info",
      DATABASE_POOL_SIZE: "5",
      PAYMENT_LATENCY_MS: "5",
      // The API's backlog gauges refresh in the background; tests read them within seconds of a change.
      MONITOR_GAUGE_REFRESH_MS: "1000",
      ...options.env,
    };
    const pipeline = new Pipeline(options.name, loadConfig(env), env, path.join(repo, "test-artifacts", "e2e-logs", tag));
    pipeline.readyTimeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
    try {
      const wanted = options.services ?? ALL_SERVICES;
      // The relay first: it creates every topic and registers the schemas the consumers decode with.
      if (wanted.includes("outbox-relay")) await pipeline.startService("outbox-relay", options.instances?.["outbox-relay"] ?? 1);
      await Promise.all(wanted.filter((s) => s !== "outbox-relay").map((s) => pipeline.startService(s, options.instances?.[s] ?? 1)));
    } catch (error) {
      await pipeline.stop();
      throw error;
    }
    return pipeline;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.config.API_PORT}`;
  }

  instances(service: PipelineService): ServiceProcess[] {
    return (this.processes.get(service) ?? []).filter((p) => p.running);
  }

  /**
   * Starts `count` more instances and waits until they are ready (consumers: their group is Stable with all of
   * them). `env` adds to the pipeline's environment for these instances only; `waitForGroup: false` returns once
   * each instance is up, without waiting for its group to settle (instances joining during a rebalance storm).
   */
  async startService(service: PipelineService, count = 1, options: { env?: Record<string, string>; waitForGroup?: boolean } = {}): Promise<ServiceProcess[]> {
    const fresh = Array.from({ length: count }, () => {
      this.started += 1;
      return new ServiceProcess({ repo, service, label: `${service}-${this.started}`, env: { ...this.env, ...options.env }, logDir: this.logDir });
    });
    this.processes.set(service, [...(this.processes.get(service) ?? []), ...fresh]);
    await Promise.all(fresh.map((p) => this.waitReady(service, p)));
    if (service in CONSUMER_GROUPS && options.waitForGroup !== false)
      await this.waitForGroup(service as ConsumerService, this.instances(service).length, this.readyTimeoutMs);
    return fresh;
  }

  private async waitReady(service: PipelineService, process: ServiceProcess): Promise<void> {
    if (service === "order-api") {
      await pollUntil(
        async () =>
          process.running
            ? (await fetch(`${this.baseUrl}/livez`, { signal: AbortSignal.timeout(1000) })).ok || undefined
            : Promise.reject(new Error(`${process.label} exited; see ${process.logPath}`)),
        this.readyTimeoutMs,
        `${process.label} to answer /livez`,
      );
      return;
    }
    const message = service === "outbox-relay" ? "outbox relay started" : `${service} running`;
    await process.waitForLog((line) => line.msg === message, this.readyTimeoutMs, `"${message}"`);
  }

  async describeGroup(service: ConsumerService): Promise<GroupDescription | undefined> {
    const [group] = await withAdmin(this.kafka, (admin) => describeGroups(admin, [this.groupId(service)]));
    return group;
  }

  /** Kafka group ids carry TOPIC_PREFIX (like topics), so test files never share a group. */
  groupId(service: ConsumerService): string {
    return topicName(this.config, CONSUMER_GROUPS[service]);
  }

  /** The group is Stable with exactly `members` members, each holding partitions of this pipeline's topics. */
  async waitForGroup(service: ConsumerService, members: number, timeoutMs: number): Promise<GroupDescription> {
    const prefix = this.config.TOPIC_PREFIX;
    let last: GroupDescription | undefined;
    return pollUntil(
      async () => {
        const group = await this.describeGroup(service);
        last = group;
        const ours = group?.members.filter((m) => m.assignment.some((a) => a.topic.startsWith(prefix) && a.partitions.length > 0)) ?? [];
        return group?.state === "Stable" && group.members.length === members && ours.length === members ? group : undefined;
      },
      timeoutMs,
      () => `group ${CONSUMER_GROUPS[service]} to be Stable with ${members} member(s); last seen: ${JSON.stringify(last)}`,
      250,
    );
  }

  /** fetch against the API with a bound; JSON body in, the Response out. */
  async request(method: string, urlPath: string, options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...(options.body !== undefined ? { "content-type": "application/json" } : {}), ...options.headers };
    return fetch(`${this.baseUrl}${urlPath}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? HTTP_TIMEOUT_MS),
    });
  }

  /** Drains every instance (SIGTERM, SIGKILL past the grace), deletes this pipeline's topics, closes clients. */
  async stop(): Promise<void> {
    const all = [...this.processes.values()].flat();
    await Promise.all(all.map((p) => p.stop(STOP_GRACE_MS)));
    await withAdmin(this.kafka, (admin) => deleteTopics(admin, allTopicNames(this.config))).catch(() => undefined);
    await this.prisma.$disconnect();
  }
}

export { pollUntil };
