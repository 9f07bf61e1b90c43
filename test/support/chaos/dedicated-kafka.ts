/**
 * A single-node KRaft broker of its own for the chaos tier, so a scenario can cut the services off from Kafka
 * without touching the broker `npm start` and the other tiers share. It runs the jars the stack installed
 * (.stack/kafka/libs) with the stack's settings, and advertises the port of a TcpProxy in front of it: Kafka clients
 * connect to the address the broker advertises, not to the one they bootstrapped from, so only an advertised proxy
 * sits in every connection. Its log directory is formatted once and kept (.stack/chaos-kafka); topics are the
 * pipeline's own and deleted after each run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describeCluster, withAdmin } from "../../../services/shared/kafka/kafka-admin.ts";
import { createKafka } from "../../../services/shared/kafka/kafka-client.ts";
import { stackPaths } from "../../../scripts/stack/stack-config.ts";
import { freePort, runCommand, waitUntil } from "../../../scripts/stack/process.ts";
import { TcpProxy } from "./tcp-proxy.ts";

const NODE_ID = 1;
const HEAP_MB = 256;
const START_TIMEOUT_MS = 120_000;

export interface DedicatedKafka {
  /** What KAFKA_BROKERS should be: the proxy's address. */
  brokers: string;
  proxy: TcpProxy;
  logFile: string;
  stop(): Promise<void>;
}

function properties(dataDir: string, brokerPort: number, controllerPort: number, advertisedPort: number): string {
  const settings: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": NODE_ID,
    "controller.quorum.voters": `${NODE_ID}@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${advertisedPort}`,
    "inter.broker.listener.name": "PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "log.dirs": dataDir,
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
    "group.initial.rebalance.delay.ms": 0,
    "auto.create.topics.enable": false,
    "num.network.threads": 2,
    "num.io.threads": 2,
    "num.recovery.threads.per.data.dir": 1,
    "log.segment.bytes": 16 * 1024 * 1024,
  };
  return `${Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n")}\n`;
}

async function answers(brokers: string): Promise<boolean> {
  const kafka = createKafka({
    brokers: [brokers],
    clientId: "chaos-kafka",
    connectionTimeoutMs: 1_000,
    requestTimeoutMs: 3_000,
    retries: 0,
    logLevel: "nothing",
  });
  try {
    return (await withAdmin(kafka, describeCluster)).brokers.some((broker) => broker.nodeId === NODE_ID);
  } catch {
    return false;
  }
}

function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

export async function startDedicatedKafka(): Promise<DedicatedKafka> {
  const paths = stackPaths();
  const libs = path.join(paths.root, "kafka", "libs");
  if (!existsSync(libs)) throw new Error(`no Kafka jars at ${libs}: run npm run stack -- up kafka first`);
  const root = path.join(paths.root, "chaos-kafka");
  const data = path.join(root, "data");
  mkdirSync(data, { recursive: true });
  const logFile = path.join(paths.logs, "chaos-kafka.log");
  const proxy = await TcpProxy.start({ targetPort: 1 });
  const [brokerPort, controllerPort] = [await freePort(), await freePort()];
  proxy.retarget(brokerPort);
  const config = path.join(root, "server.properties");
  writeFileSync(config, properties(data, brokerPort, controllerPort, proxy.port));
  const log4j = path.join(paths.repo, "infra", "kafka", "log4j2.yaml");
  if (!existsSync(path.join(data, "meta.properties"))) {
    const idFile = path.join(root, "cluster-id");
    if (!existsSync(idFile)) writeFileSync(idFile, clusterId());
    await runCommand(
      "chaos-kafka",
      "java",
      [
        "-Xmx256m",
        `-Dlog4j2.configurationFile=${log4j}`,
        "-cp",
        `${libs}/*`,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        readFileSync(idFile, "utf8").trim(),
        "-c",
        config,
        "--ignore-formatted",
      ],
      { logFile, timeoutMs: 120_000 },
    );
  }
  const fd = openSync(logFile, "a");
  const child: ChildProcess = spawn(
    "java",
    [
      `-Xmx${HEAP_MB}m`,
      `-Xms${HEAP_MB}m`,
      "-XX:+UseG1GC",
      "-XX:MaxGCPauseMillis=20",
      "-XX:+ExitOnOutOfMemoryError",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${log4j}`,
      `-Dkafka.logs.dir=${paths.logs}`,
      "-cp",
      `${libs}/*`,
      "kafka.Kafka",
      config,
    ],
    { cwd: root, stdio: ["ignore", fd, fd] },
  );
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const brokers = `127.0.0.1:${proxy.port}`;
  try {
    await waitUntil("chaos-kafka", "answering through its proxy", () => answers(brokers), {
      timeoutMs: START_TIMEOUT_MS,
      intervalMs: 500,
      logFile,
      pid: child.pid,
    });
  } catch (error) {
    child.kill("SIGKILL");
    await proxy.close();
    throw error;
  }
  return {
    brokers,
    proxy,
    logFile,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        await exited;
        clearTimeout(timer);
      }
      await proxy.close();
    },
  };
}
