import path from "node:path";
import type { StackComponent } from "../component.ts";
import type { StackContext } from "../context.ts";
import { installCached } from "../cached-install.ts";
import { bootstrapOf, nodeAnswers, startNode, stopNode, type KafkaNodeSpec } from "./kafka-node.ts";

const NAME = "kafka";
const FIX_HINT = "is port 9092 or 9093 taken (KAFKA_PORT, KAFKA_CONTROLLER_PORT)? see .stack/logs/kafka.log";

/** Single-node KRaft: one process is broker and controller, everything replicated once. */
function nodeSpec(ctx: StackContext): KafkaNodeSpec {
  const { host, kafkaPort, kafkaControllerPort, kafkaHeapMb } = ctx.config;
  const root = path.join(ctx.paths.root, NAME);
  return {
    name: NAME,
    nodeId: 1,
    host,
    brokerPort: kafkaPort,
    controllerPort: kafkaControllerPort,
    voters: `1@${host}:${kafkaControllerPort}`,
    heapMb: kafkaHeapMb,
    jvmOptions: ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"],
    root,
    data: path.join(root, "data"),
    clusterIdFile: path.join(root, "cluster-id"),
    /** A link to the jars in the machine's cache, resolved from infra/kafka/pom.xml (a changed pom is a new entry). */
    libs: path.join(root, "libs"),
    log: path.join(ctx.paths.logs, "kafka.log"),
    installLog: path.join(ctx.paths.logs, "kafka-install.log"),
    replicationFactor: 1,
    minInsyncReplicas: 1,
    portVariables: { broker: "KAFKA_PORT", controller: "KAFKA_CONTROLLER_PORT" },
    fixHint: FIX_HINT,
  };
}

export const kafka: StackComponent = {
  name: NAME,
  fixHint: FIX_HINT,

  async install(ctx) {
    await installCached(ctx, NAME, nodeSpec(ctx).libs);
  },

  isHealthy: (ctx) => nodeAnswers(nodeSpec(ctx)),

  start: (ctx) => startNode(ctx, nodeSpec(ctx)),

  stop: (ctx) => stopNode(ctx, nodeSpec(ctx)),

  logFile(ctx) {
    return nodeSpec(ctx).log;
  },

  describe(ctx) {
    return `bootstrap ${bootstrapOf(nodeSpec(ctx))} (KRaft, controller ${ctx.config.host}:${ctx.config.kafkaControllerPort})`;
  },
};
