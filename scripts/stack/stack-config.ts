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
  registryPort: number;
  /** Apicurio's Quarkus management interface cannot be disabled at run time: bind it to loopback on this port. */
  registryManagementPort: number;
  jaegerUiPort: number;
  jaegerOtlpGrpcPort: number;
  jaegerOtlpHttpPort: number;
  jaegerGrpcQueryPort: number;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: NumberVariable): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return stackVariables[name];
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name} must be an integer port/size between 1 and 65535, got "${raw}"`);
  }
  return value;
}

export function loadStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  return {
    host: "127.0.0.1",
    postgresPort: intFromEnv(env, "POSTGRES_PORT"),
    postgresUser: env.POSTGRES_USER || stackVariables.POSTGRES_USER,
    postgresPassword: env.POSTGRES_PASSWORD || stackVariables.POSTGRES_PASSWORD,
    kafkaPort: intFromEnv(env, "KAFKA_PORT"),
    kafkaControllerPort: intFromEnv(env, "KAFKA_CONTROLLER_PORT"),
    kafkaHeapMb: intFromEnv(env, "KAFKA_HEAP_MB"),
    registryPort: intFromEnv(env, "SCHEMA_REGISTRY_PORT"),
    registryManagementPort: intFromEnv(env, "SCHEMA_REGISTRY_MANAGEMENT_PORT"),
    jaegerUiPort: intFromEnv(env, "JAEGER_UI_PORT"),
    jaegerOtlpGrpcPort: intFromEnv(env, "JAEGER_OTLP_GRPC_PORT"),
    jaegerOtlpHttpPort: intFromEnv(env, "JAEGER_OTLP_HTTP_PORT"),
    jaegerGrpcQueryPort: intFromEnv(env, "JAEGER_GRPC_QUERY_PORT"),
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
