import path from "node:path";
import type { StackComponent } from "../component.ts";
import type { StackContext } from "../context.ts";
import { installCached } from "../cached-install.ts";
import { bootstrapOf, launchNode, nodeAnswers, stopNode, waitForNode, type KafkaNodeSpec } from "./kafka-node.ts";

/** Replicas of every topic, and how many must have a write before acks=all answers: one node may be down. */
export const CLUSTER_REPLICATION_FACTOR = 3;
export const CLUSTER_MIN_INSYNC_REPLICAS = 2;

/**
 * Failure detection of the cluster. A killed node is fenced (its partitions get new leaders) once it missed
 * heartbeats for the session timeout: 6 s instead of Kafka's 9 s, still far above the pauses of three JVMs sharing
 * two cores. Unclean leader election stays off: only an in-sync replica, which has every acked record, may lead.
 */
const CLUSTER_SETTINGS = {
  "broker.heartbeat.interval.ms": 1_000,
  "broker.session.timeout.ms": 6_000,
  "unclean.leader.election.enable": false,
  // Three nodes on two cores: fewer request threads each than the single node.
  "num.io.threads": 2,
  "num.replica.fetchers": 1,
};

/**
 * Three JVMs on a small machine: the serial collector (a 320 MB heap needs no parallel GC threads) and the C1
 * compiler only (a fraction of the CPU at start, ample speed for a local cluster).
 */
const CLUSTER_JVM_OPTIONS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"];

export interface KafkaClusterComponent extends StackComponent {
  /** The nodes, node 1 first: what the stack starts, and what a fault test kills and restarts one by one. */
  nodes(ctx: StackContext): KafkaNodeSpec[];
  /** KAFKA_BROKERS for the services: every node, so a client bootstraps whichever is down. */
  bootstrapServers(ctx: StackContext): string;
}

/**
 * A 3-node KRaft cluster on 127.0.0.1, each node broker and controller (three JVMs with small heaps instead of
 * six), replication factor 3 and min.insync.replicas 2 for every topic including the internal ones. `name` names
 * its folder in .stack/, its pid files and logs, so a test can run a cluster of its own beside the profile's.
 */
export function kafkaClusterComponent(name = "kafka-cluster"): KafkaClusterComponent {
  const fixHint = `is one of its ports taken (KAFKA_CLUSTER_PORT, KAFKA_CLUSTER_CONTROLLER_PORT)? see .stack/logs/${name}-<node>.log`;

  function nodes(ctx: StackContext): KafkaNodeSpec[] {
    const { host, kafkaCluster } = ctx.config;
    const root = path.join(ctx.paths.root, name);
    const voters = kafkaCluster.controllerPorts.map((port, i) => `${i + 1}@${host}:${port}`).join(",");
    return kafkaCluster.brokerPorts.map((brokerPort, i) => {
      const nodeId = i + 1;
      const nodeRoot = path.join(root, `node-${nodeId}`);
      return {
        name: `${name}-${nodeId}`,
        nodeId,
        host,
        brokerPort,
        controllerPort: kafkaCluster.controllerPorts[i]!,
        voters,
        heapMb: kafkaCluster.heapMb,
        jvmOptions: CLUSTER_JVM_OPTIONS,
        root: nodeRoot,
        data: path.join(nodeRoot, "data"),
        clusterIdFile: path.join(root, "cluster-id"),
        libs: path.join(root, "libs"),
        log: path.join(ctx.paths.logs, `${name}-${nodeId}.log`),
        installLog: path.join(ctx.paths.logs, `${name}-install.log`),
        replicationFactor: CLUSTER_REPLICATION_FACTOR,
        minInsyncReplicas: CLUSTER_MIN_INSYNC_REPLICAS,
        extraSettings: CLUSTER_SETTINGS,
        portVariables: { broker: "KAFKA_CLUSTER_PORT", controller: "KAFKA_CLUSTER_CONTROLLER_PORT" },
        fixHint,
      };
    });
  }

  const bootstrapServers = (ctx: StackContext): string => nodes(ctx).map(bootstrapOf).join(",");

  async function everyNodeAnswers(ctx: StackContext): Promise<boolean> {
    return (await Promise.all(nodes(ctx).map((spec) => nodeAnswers(spec)))).every(Boolean);
  }

  return {
    name,
    fixHint,
    nodes,

    bootstrapServers,

    async install(ctx) {
      // The same jars as the single node (one cache entry), linked into this cluster's folder.
      await installCached(ctx, "kafka", nodes(ctx)[0]!.libs);
    },

    isHealthy: everyNodeAnswers,

    async start(ctx) {
      const specs = nodes(ctx);
      const down = (await Promise.all(specs.map(async (spec) => ((await nodeAnswers(spec)) ? [] : [spec])))).flat();
      // All at once: a node's broker only comes up once a majority of the controllers runs.
      const pids = await Promise.all(down.map((spec) => launchNode(ctx, spec)));
      await Promise.all(down.map((spec, i) => waitForNode(ctx, spec, pids[i]!)));
    },

    async stop(ctx) {
      await Promise.all(nodes(ctx).map((spec) => stopNode(ctx, spec)));
    },

    logFile(ctx) {
      return nodes(ctx)[0]!.log;
    },

    describe(ctx) {
      const { host, kafkaCluster } = ctx.config;
      return `bootstrap ${bootstrapServers(ctx)} (KRaft, 3 nodes, controllers ${kafkaCluster.controllerPorts.map((p) => `${host}:${p}`).join(",")}, replication ${CLUSTER_REPLICATION_FACTOR}, min.insync.replicas ${CLUSTER_MIN_INSYNC_REPLICAS})`;
    },
  };
}

/** The cluster of `npm run stack -- up --profile kafka-cluster`. */
export const kafkaCluster = kafkaClusterComponent();
