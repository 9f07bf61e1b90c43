import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describeCluster, withAdmin } from "../../../services/shared/kafka/kafka-admin.ts";
import { createKafka } from "../../../services/shared/kafka/kafka-client.ts";
import type { StackContext } from "../context.ts";
import { StackError } from "../errors.ts";
import { assertPortFree, readPid, runCommand, startDaemon, stopDaemon, waitUntil } from "../process.ts";

/** Kafka 4.x runs on Java 17: the machine's default `java`. */
const JAVA = "java";

/**
 * One Kafka process of the local stack, broker and KRaft controller in one: the single node of the default stack or
 * one member of the kafka-cluster profile. Everything that differs between the two is in here.
 */
export interface KafkaNodeSpec {
  /** Pid file and progress name: "kafka", "kafka-cluster-2". */
  name: string;
  nodeId: number;
  host: string;
  brokerPort: number;
  controllerPort: number;
  /** controller.quorum.voters: every controller of the cluster, "1@127.0.0.1:9093,...". */
  voters: string;
  heapMb: number;
  /** Folder with this node's server.properties. */
  root: string;
  /** Its log directory (formatted once, kept across restarts). */
  data: string;
  /** Shared by every node of one cluster: they must be formatted with the same id. */
  clusterIdFile: string;
  libs: string;
  log: string;
  installLog: string;
  /** Replication of new topics and of the internal ones: 1 on the single node, 3 with min.insync.replicas 2 on the cluster. */
  replicationFactor: number;
  minInsyncReplicas: number;
  /** Garbage collector and compiler flags (the cluster's three small JVMs trade peak speed for less CPU and memory). */
  jvmOptions: string[];
  /** Settings only this kind of node has (the cluster's faster failure detection). */
  extraSettings?: Record<string, string | number | boolean>;
  /** The variables that move its ports, named when a port is taken. */
  portVariables: { broker: string; controller: string };
  fixHint: string;
}

export function bootstrapOf(spec: Pick<KafkaNodeSpec, "host" | "brokerPort">): string {
  return `${spec.host}:${spec.brokerPort}`;
}

/** server.properties of one node; internal topics are sized for 2 cores and replicated like the data. */
export function nodeProperties(spec: KafkaNodeSpec): string {
  const { host, brokerPort, controllerPort, replicationFactor, minInsyncReplicas } = spec;
  const settings: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": spec.nodeId,
    "controller.quorum.voters": spec.voters,
    listeners: `PLAINTEXT://${host}:${brokerPort},CONTROLLER://${host}:${controllerPort}`,
    "advertised.listeners": `PLAINTEXT://${host}:${brokerPort}`,
    "inter.broker.listener.name": "PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "log.dirs": spec.data,
    "num.partitions": 1,
    "default.replication.factor": replicationFactor,
    "min.insync.replicas": minInsyncReplicas,
    "offsets.topic.replication.factor": replicationFactor,
    "offsets.topic.num.partitions": 4,
    "transaction.state.log.replication.factor": replicationFactor,
    "transaction.state.log.min.isr": minInsyncReplicas,
    "transaction.state.log.num.partitions": 2,
    "share.coordinator.state.topic.replication.factor": replicationFactor,
    "share.coordinator.state.topic.min.isr": minInsyncReplicas,
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
    ...spec.extraSettings,
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key}=${value}`);
  return `# Written by scripts/stack/components/kafka-node.ts on every start; edit that file, not this one.\n${lines.join("\n")}\n`;
}

/** A Kafka cluster id (what `StorageTool random-uuid` prints): 16 random bytes, base64url; never starting with "-". */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

function serverPropertiesFile(spec: KafkaNodeSpec): string {
  return path.join(spec.root, "server.properties");
}

/** Formats the log directory once; the cluster id is kept so the data survives restarts. */
async function formatStorageOnce(ctx: StackContext, spec: KafkaNodeSpec): Promise<void> {
  if (existsSync(path.join(spec.data, "meta.properties"))) return;
  if (!existsSync(spec.clusterIdFile)) writeFileSync(spec.clusterIdFile, `${newClusterId()}\n`);
  const clusterId = readFileSync(spec.clusterIdFile, "utf8").trim();
  await ctx.step(spec.name, `formatting storage (cluster ${clusterId})`, () =>
    runCommand(
      spec.name,
      JAVA,
      [
        "-Xmx256m",
        "-XX:TieredStopAtLevel=1",
        ...log4jArgs(ctx),
        "-cp",
        `${spec.libs}/*`,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        clusterId,
        "-c",
        serverPropertiesFile(spec),
        "--ignore-formatted",
      ],
      { logFile: spec.installLog, timeoutMs: 120_000 },
    ),
  );
}

function log4jArgs(ctx: StackContext): string[] {
  return [`-Dlog4j2.configurationFile=${path.join(ctx.paths.repo, "infra", "kafka", "log4j2.yaml")}`];
}

/** A real protocol round trip to this node alone: Metadata via kafkajs describeCluster, fast to fail. */
export async function nodeAnswers(spec: Pick<KafkaNodeSpec, "host" | "brokerPort" | "nodeId">): Promise<boolean> {
  const kafka = createKafka({
    brokers: [bootstrapOf(spec)],
    clientId: "orderflow-stack",
    connectionTimeoutMs: 1_000,
    requestTimeoutMs: 3_000,
    retries: 0,
    logLevel: "nothing",
  });
  try {
    const cluster = await withAdmin(kafka, describeCluster);
    return cluster.brokers.some((broker) => broker.nodeId === spec.nodeId);
  } catch {
    return false;
  }
}

/** Starts the node detached (or finds the earlier start still coming up); returns its pid. */
export async function launchNode(ctx: StackContext, spec: KafkaNodeSpec): Promise<number> {
  const running = readPid(ctx, spec.name); // set when an earlier `up` started it and it is still coming up
  if (running !== undefined) return running;
  await assertPortFree(spec.name, spec.host, spec.brokerPort, spec.portVariables.broker);
  await assertPortFree(spec.name, spec.host, spec.controllerPort, spec.portVariables.controller);
  if (!existsSync(spec.libs)) throw new StackError(spec.name, "not installed", { hint: "run `npm run stack -- up`" });
  mkdirSync(spec.data, { recursive: true });
  writeFileSync(serverPropertiesFile(spec), nodeProperties(spec));
  await formatStorageOnce(ctx, spec);
  return startDaemon(
    ctx,
    spec.name,
    JAVA,
    [
      `-Xmx${spec.heapMb}m`,
      `-Xms${Math.min(256, spec.heapMb)}m`,
      ...spec.jvmOptions,
      "-XX:+ExitOnOutOfMemoryError",
      "-Djava.awt.headless=true",
      ...log4jArgs(ctx),
      `-Dkafka.logs.dir=${ctx.paths.logs}`,
      "-cp",
      `${spec.libs}/*`,
      "kafka.Kafka",
      serverPropertiesFile(spec),
    ],
    { logFile: spec.log, cwd: spec.root },
  );
}

/** Waits, bounded, until the node answers Kafka requests; fails at once when its process dies. */
export async function waitForNode(ctx: StackContext, spec: KafkaNodeSpec, pid: number, timeoutMs = 120_000): Promise<void> {
  await ctx.step(spec.name, `waiting for the broker on ${bootstrapOf(spec)}`, () =>
    waitUntil(spec.name, "answering Kafka requests", () => nodeAnswers(spec), {
      timeoutMs,
      intervalMs: 500,
      logFile: spec.log,
      pid,
      hint: spec.fixHint,
    }),
  );
}

/** Launches the node (when it does not answer yet) and waits until it does. */
export async function startNode(ctx: StackContext, spec: KafkaNodeSpec): Promise<void> {
  if (await nodeAnswers(spec)) return;
  await waitForNode(ctx, spec, await launchNode(ctx, spec));
}

/** A clean shutdown flushes the logs and writes a clean-shutdown marker; a kill means log recovery next start. */
export function stopNode(ctx: StackContext, spec: KafkaNodeSpec): Promise<void> {
  return stopDaemon(ctx, spec.name, 60_000);
}
