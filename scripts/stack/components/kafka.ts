import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describeCluster, withAdmin } from "../../../services/shared/kafka/kafka-admin.ts";
import { createKafka } from "../../../services/shared/kafka/kafka-client.ts";
import type { StackComponent } from "../component.ts";
import type { StackContext } from "../context.ts";
import { StackError } from "../errors.ts";
import { installCached } from "../cached-install.ts";
import { assertPortFree, readPid, runCommand, startDaemon, stopDaemon, waitUntil } from "../process.ts";

const NAME = "kafka";
/** Kafka 4.x runs on Java 17: the machine's default `java`. */
const JAVA = "java";
const NODE_ID = 1;
const FIX_HINT = "is port 9092 or 9093 taken (KAFKA_PORT, KAFKA_CONTROLLER_PORT)? see .stack/logs/kafka.log";

function files(ctx: StackContext) {
  const root = path.join(ctx.paths.root, NAME);
  return {
    root,
    /** A link to the jars in the machine's cache, resolved from infra/kafka/pom.xml (a changed pom is a new entry). */
    libs: path.join(root, "libs"),
    data: path.join(root, "data"),
    clusterId: path.join(root, "cluster-id"),
    serverProperties: path.join(root, "server.properties"),
    log4j: path.join(ctx.paths.repo, "infra", "kafka", "log4j2.yaml"),
    installLog: path.join(ctx.paths.logs, "kafka-install.log"),
    log: path.join(ctx.paths.logs, "kafka.log"),
  };
}

function bootstrapServer(ctx: StackContext): string {
  return `${ctx.config.host}:${ctx.config.kafkaPort}`;
}

/** Single-node KRaft: one process is broker and controller; internal topics sized for 1 node and 2 cores. */
function serverProperties(ctx: StackContext): string {
  const { host, kafkaPort, kafkaControllerPort } = ctx.config;
  const settings: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": NODE_ID,
    "controller.quorum.voters": `${NODE_ID}@${host}:${kafkaControllerPort}`,
    listeners: `PLAINTEXT://${host}:${kafkaPort},CONTROLLER://${host}:${kafkaControllerPort}`,
    "advertised.listeners": `PLAINTEXT://${host}:${kafkaPort}`,
    "inter.broker.listener.name": "PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "log.dirs": files(ctx).data,
    "num.partitions": 1,
    "default.replication.factor": 1,
    "min.insync.replicas": 1,
    "offsets.topic.replication.factor": 1,
    "offsets.topic.num.partitions": 4,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "transaction.state.log.num.partitions": 2,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    "share.coordinator.state.topic.num.partitions": 1,
    // Consumers in tests join one by one; waiting 3s for more members only slows every test down.
    "group.initial.rebalance.delay.ms": 0,
    // Topics are created on purpose (ensureTopics): kafkajs races on auto-created ones (kafkajs issue 1618).
    "auto.create.topics.enable": false,
    "num.network.threads": 2,
    "num.io.threads": 4,
    "num.recovery.threads.per.data.dir": 1,
    "log.retention.hours": 168,
    "log.segment.bytes": 64 * 1024 * 1024,
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key}=${value}`);
  return `# Written by scripts/stack/components/kafka.ts on every start; edit that file, not this one.\n${lines.join("\n")}\n`;
}

/** A Kafka cluster id (what `StorageTool random-uuid` prints): 16 random bytes, base64url; never starting with "-". */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/** Formats the log directory once; the cluster id is kept so the data survives restarts. */
async function formatStorageOnce(ctx: StackContext): Promise<void> {
  const f = files(ctx);
  if (existsSync(path.join(f.data, "meta.properties"))) return;
  if (!existsSync(f.clusterId)) writeFileSync(f.clusterId, `${newClusterId()}\n`);
  const clusterId = readFileSync(f.clusterId, "utf8").trim();
  await ctx.step(NAME, `formatting storage (cluster ${clusterId})`, () =>
    runCommand(NAME, JAVA, [
      "-Xmx256m", `-Dlog4j2.configurationFile=${f.log4j}`, "-cp", `${f.libs}/*`,
      "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", f.serverProperties, "--ignore-formatted",
    ], { logFile: f.installLog, timeoutMs: 120_000 }),
  );
}

/** A real protocol round trip: Metadata via kafkajs describeCluster, fast to fail. */
async function brokerAnswers(ctx: StackContext): Promise<boolean> {
  const kafka = createKafka({
    brokers: [bootstrapServer(ctx)], clientId: "orderflow-stack", connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000,
    retries: 0, logLevel: "nothing",
  });
  try {
    const cluster = await withAdmin(kafka, describeCluster);
    return cluster.brokers.some((broker) => broker.nodeId === NODE_ID);
  } catch {
    return false;
  }
}

export const kafka: StackComponent = {
  name: NAME,
  fixHint: FIX_HINT,

  async install(ctx) {
    await installCached(ctx, NAME, files(ctx).libs);
  },

  isHealthy: brokerAnswers,

  async start(ctx) {
    if (await brokerAnswers(ctx)) return;
    const f = files(ctx);
    let pid = readPid(ctx, NAME); // set when an earlier `up` started it and it is still coming up
    if (pid === undefined) {
      await assertPortFree(NAME, ctx.config.host, ctx.config.kafkaPort, "KAFKA_PORT");
      await assertPortFree(NAME, ctx.config.host, ctx.config.kafkaControllerPort, "KAFKA_CONTROLLER_PORT");
      if (!existsSync(f.libs)) throw new StackError(NAME, "not installed", { hint: "run `npm run stack -- up`" });
      mkdirSync(f.data, { recursive: true });
      writeFileSync(f.serverProperties, serverProperties(ctx));
      await formatStorageOnce(ctx);
      pid = startDaemon(ctx, NAME, JAVA, [
        `-Xmx${ctx.config.kafkaHeapMb}m`, `-Xms${Math.min(256, ctx.config.kafkaHeapMb)}m`,
        "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
        `-Dlog4j2.configurationFile=${f.log4j}`, `-Dkafka.logs.dir=${ctx.paths.logs}`,
        "-cp", `${f.libs}/*`, "kafka.Kafka", f.serverProperties,
      ], { logFile: f.log, cwd: f.root });
    }
    await ctx.step(NAME, `waiting for the broker on ${bootstrapServer(ctx)}`, () =>
      waitUntil(NAME, "answering Kafka requests", () => brokerAnswers(ctx), {
        timeoutMs: 120_000, intervalMs: 500, logFile: f.log, pid, hint: FIX_HINT,
      }),
    );
  },

  async stop(ctx) {
    // A clean shutdown flushes the logs and writes a clean-shutdown marker; a kill means log recovery next start.
    await stopDaemon(ctx, NAME, 60_000);
  },

  logFile(ctx) {
    return files(ctx).log;
  },

  describe(ctx) {
    return `bootstrap ${bootstrapServer(ctx)} (KRaft, controller ${ctx.config.host}:${ctx.config.kafkaControllerPort})`;
  },
};
