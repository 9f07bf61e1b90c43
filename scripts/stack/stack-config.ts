import path from "node:path";
import { fileURLToPath } from "node:url";
import { stackRoot } from "./artefact-cache.mjs";

/**
 * Every environment variable the local stack reads, with its default: the one list (.env.example mirrors it, a unit
 * test checks they agree). Same names as .env.example and infra/docker-compose.yml.
 */
export const stackVariables = {
  POSTGRES_PORT: 5432,
  POSTGRES_USER: "orderflow",
  POSTGRES_PASSWORD: "orderflow",
  KAFKA_PORT: 9092,
  KAFKA_CONTROLLER_PORT: 9093,
  KAFKA_HEAP_MB: 768,
  SCHEMA_REGISTRY_PORT: 8081,
  SCHEMA_REGISTRY_MANAGEMENT_PORT: 9081,
  JAEGER_UI_PORT: 16686,
  JAEGER_OTLP_GRPC_PORT: 4317,
  JAEGER_OTLP_HTTP_PORT: 4318,
  JAEGER_GRPC_QUERY_PORT: 16685,
  // The kafka-cluster profile's first ports follow KAFKA_PORT (+10, +20); these are the values for the default 9092.
  KAFKA_CLUSTER_PORT: 9102,
  KAFKA_CLUSTER_CONTROLLER_PORT: 9112,
  KAFKA_CLUSTER_HEAP_MB: 320,
} as const;

type NumberVariable = { [Name in keyof typeof stackVariables]: (typeof stackVariables)[Name] extends number ? Name : never }[keyof typeof stackVariables];

/** Ports and hosts of the local stack, read from stackVariables. */
export interface StackConfig {
  host: string;
  postgresPort: number;
  postgresUser: string;
  postgresPassword: string;
  kafkaPort: number;
  kafkaControllerPort: number;
  kafkaHeapMb: number;
  /** The 3-node KRaft cluster of the kafka-cluster profile (docs/local-stack.md). */
  kafkaCluster: KafkaClusterConfig;
  registryPort: number;
  /** Apicurio's Quarkus management interface cannot be disabled at run time: bind it to loopback on this port. */
  registryManagementPort: number;
  jaegerUiPort: number;
  jaegerOtlpGrpcPort: number;
  jaegerOtlpHttpPort: number;
  jaegerGrpcQueryPort: number;
}

/** Nodes of the kafka-cluster profile: 3 is the fewest that keeps min.insync.replicas=2 writable with one node down. */
export const KAFKA_CLUSTER_SIZE = 3;

export interface KafkaClusterConfig {
  /** Client (PLAINTEXT) port of node 1, 2, 3. */
  brokerPorts: number[];
  /** KRaft controller port of node 1, 2, 3. */
  controllerPorts: number[];
  /** Heap of each node: three JVMs share the machine with everything else. */
  heapMb: number;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name} must be an integer port/size between 1 and 65535, got "${raw}"`);
  }
  return value;
}

/** Consecutive ports from the first one, each a valid port. */
function portRange(name: string, first: number, count: number): number[] {
  if (first + count - 1 > 65535) throw new Error(`${name}=${first} leaves no room for ${count} consecutive ports (the last would be ${first + count - 1})`);
  return Array.from({ length: count }, (_, i) => first + i);
}

/**
 * KAFKA_CLUSTER_PORT and KAFKA_CLUSTER_CONTROLLER_PORT name the first of three consecutive ports each; by default
 * they follow KAFKA_PORT (+10 and +20: 9102 and 9112 for 9092), so a clone that moved its single broker moves its
 * cluster with it. Every port must be distinct, and none may be the single broker's: the profile runs beside it.
 */
/** A number variable of the stack with its default from stackVariables. */
function stackInt(env: NodeJS.ProcessEnv, name: NumberVariable): number {
  return intFromEnv(env, name, stackVariables[name]);
}

export function loadKafkaClusterConfig(env: NodeJS.ProcessEnv, kafkaPort: number, singleNodePorts: readonly number[]): KafkaClusterConfig {
  const brokerPorts = portRange("KAFKA_CLUSTER_PORT", intFromEnv(env, "KAFKA_CLUSTER_PORT", kafkaPort + 10), KAFKA_CLUSTER_SIZE);
  const controllerPorts = portRange("KAFKA_CLUSTER_CONTROLLER_PORT", intFromEnv(env, "KAFKA_CLUSTER_CONTROLLER_PORT", kafkaPort + 20), KAFKA_CLUSTER_SIZE);
  const all = [...brokerPorts, ...controllerPorts];
  const clash = all.find((port, i) => all.indexOf(port) !== i || singleNodePorts.includes(port));
  if (clash !== undefined) {
    throw new Error(
      `KAFKA_CLUSTER_PORT (${brokerPorts.join(", ")}) and KAFKA_CLUSTER_CONTROLLER_PORT (${controllerPorts.join(", ")}) overlap each other or KAFKA_PORT/KAFKA_CONTROLLER_PORT (${singleNodePorts.join(", ")}) at port ${clash}`,
    );
  }
  const heapMb = stackInt(env, "KAFKA_CLUSTER_HEAP_MB");
  if (heapMb < 128) throw new Error(`KAFKA_CLUSTER_HEAP_MB must be at least 128 (a broker does not start below), got ${heapMb}`);
  return { brokerPorts, controllerPorts, heapMb };
}

export function loadStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const kafkaPort = stackInt(env, "KAFKA_PORT");
  const kafkaControllerPort = stackInt(env, "KAFKA_CONTROLLER_PORT");
  return {
    host: "127.0.0.1",
    postgresPort: stackInt(env, "POSTGRES_PORT"),
    postgresUser: env.POSTGRES_USER || stackVariables.POSTGRES_USER,
    postgresPassword: env.POSTGRES_PASSWORD || stackVariables.POSTGRES_PASSWORD,
    kafkaPort,
    kafkaControllerPort,
    kafkaHeapMb: stackInt(env, "KAFKA_HEAP_MB"),
    kafkaCluster: loadKafkaClusterConfig(env, kafkaPort, [kafkaPort, kafkaControllerPort]),
    registryPort: stackInt(env, "SCHEMA_REGISTRY_PORT"),
    registryManagementPort: stackInt(env, "SCHEMA_REGISTRY_MANAGEMENT_PORT"),
    jaegerUiPort: stackInt(env, "JAEGER_UI_PORT"),
    jaegerOtlpGrpcPort: stackInt(env, "JAEGER_OTLP_GRPC_PORT"),
    jaegerOtlpHttpPort: stackInt(env, "JAEGER_OTLP_HTTP_PORT"),
    jaegerGrpcQueryPort: stackInt(env, "JAEGER_GRPC_QUERY_PORT"),
  };
}

export interface StackPaths {
  /** Repository root. */
  repo: string;
  /** .stack/ (git-ignored): installs, data, logs, pid files. */
  root: string;
  logs: string;
  run: string;
}

export function stackPaths(): StackPaths {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  const root = stackRoot(repo);
  return { repo, root, logs: path.join(root, "logs"), run: path.join(root, "run") };
}
