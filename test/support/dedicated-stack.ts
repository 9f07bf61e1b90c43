/**
 * A Kafka broker (and, when asked, a schema registry), or a PostgreSQL cluster, of a test's own, for tests that stop,
 * crash and restart one: the shared stack's are what `npm start` and every other test file use, so no test stops
 * those. Same components and cached artefacts as the stack (scripts/stack/components), in .stack/dedicated/<name>/
 * on free ports; a dedicated registry stores into the stack's PostgreSQL like the shared one (schema ids are global
 * there).
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { kafka as kafkaComponent } from "../../scripts/stack/components/kafka.ts";
import { postgres as postgresComponent, stopImmediately } from "../../scripts/stack/components/postgres.ts";
import { ccompatUrl, registry as registryComponent } from "../../scripts/stack/components/registry.ts";
import { createStackContext, type StackContext } from "../../scripts/stack/context.ts";
import { freePort } from "../../scripts/stack/process.ts";

/** Heap of the dedicated broker: it holds a few test topics, not the pipeline's load. */
const DEDICATED_KAFKA_HEAP_MB = 256;

export interface DedicatedStack {
  brokers: string[];
  /** Set when started with the registry. */
  registryUrl: string;
  /** Starts what is stopped; returns once it answers (Kafka: a Metadata round trip; registry: the Confluent API). */
  start(): Promise<void>;
  /** Stops both cleanly (data stays for the next start). */
  stop(): Promise<void>;
  /** Stops and deletes the instance's data. */
  close(): Promise<void>;
  /** Whether each started component answers now (a protocol round trip, as `npm run stack -- status`). */
  answering(): Promise<boolean[]>;
}

type PortSetting = "kafkaPort" | "kafkaControllerPort" | "registryPort" | "registryManagementPort" | "postgresPort";

/**
 * A stack context of its own under .stack/dedicated/<name>: each of `ports` on a free port, every other setting the
 * shared stack's (a dedicated registry stores its schemas in the shared PostgreSQL).
 */
async function dedicatedContext(name: string, ports: readonly PortSetting[]): Promise<StackContext> {
  const shared = createStackContext();
  const root = path.join(shared.paths.root, "dedicated", name);
  const paths = { ...shared.paths, root, logs: path.join(root, "logs"), run: path.join(root, "run") };
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.run, { recursive: true });
  const config = { ...shared.config, kafkaHeapMb: DEDICATED_KAFKA_HEAP_MB };
  for (const setting of ports) config[setting] = await freePort();
  return { ...shared, paths, config };
}

/** Starts what was just assembled; on a failure stops it (`undo`) before rethrowing, so nothing is left running. */
async function startedOrUndone<T extends { start(): Promise<void> }>(instance: T, undo: () => Promise<void>): Promise<T> {
  try {
    await instance.start();
  } catch (error) {
    await undo().catch(() => undefined);
    throw error;
  }
  return instance;
}

/** Installs (links to the machine's cached artefacts) and starts a broker, plus a registry with `withRegistry`. */
export async function startDedicatedStack(name: string, options: { withRegistry?: boolean } = {}): Promise<DedicatedStack> {
  const ctx = await dedicatedContext(name, ["kafkaPort", "kafkaControllerPort", "registryPort", "registryManagementPort"]);
  const components = options.withRegistry ? [kafkaComponent, registryComponent] : [kafkaComponent];
  for (const component of components) await component.install(ctx);
  const stack: DedicatedStack = {
    brokers: [`${ctx.config.host}:${ctx.config.kafkaPort}`],
    registryUrl: ccompatUrl(ctx),
    async start() {
      for (const component of components) await component.start(ctx);
    },
    async stop() {
      for (const component of [...components].reverse()) await component.stop(ctx);
    },
    answering: () => Promise.all(components.map((component) => component.isHealthy(ctx))),
    async close() {
      await stack.stop();
      rmSync(ctx.paths.root, { recursive: true, force: true });
    },
  };
  return startedOrUndone(stack, () => stack.close());
}

export interface DedicatedPostgres {
  /** The cluster's test database (created by the stack component, like the shared one's). */
  url: string;
  /** Kills the server as a crash would (pg_ctl -m immediate); `start()` brings it back through crash recovery. */
  crash(): Promise<void>;
  start(): Promise<void>;
  /** Stops it; the cluster stays for the next run under the same name (initdb once). */
  stop(): Promise<void>;
}

/** A PostgreSQL cluster of a test's own (the stack's binaries, a free port), for tests that crash and restart it. */
export async function startDedicatedPostgres(name: string): Promise<DedicatedPostgres> {
  const ctx = await dedicatedContext(name, ["postgresPort"]);
  await postgresComponent.install(ctx);
  const { host, postgresPort, postgresUser, postgresPassword } = ctx.config;
  const instance: DedicatedPostgres = {
    url: `postgresql://${encodeURIComponent(postgresUser)}:${encodeURIComponent(postgresPassword)}@${host}:${postgresPort}/orderflow_test`,
    crash: () => stopImmediately(ctx),
    start: () => postgresComponent.start(ctx),
    stop: () => postgresComponent.stop(ctx),
  };
  return startedOrUndone(instance, () => instance.stop());
}
