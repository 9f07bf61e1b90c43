/** /livez and /readyz: liveness without dependency checks, readiness per dependency and false once shutdown began. */
import type { FastifyInstance } from "fastify";
import type { AppConfig } from "../../shared/config/config-schema.ts";
import type { PrismaClient } from "../../shared/db/index.ts";
import { databaseCheck, kafkaCheck, schemaRegistryCheck, type DependencyCheck } from "../health/dependency-checks.ts";
import { registerHealthRoutes } from "../routes/health.ts";
import type { ClosingFlag } from "./http-plugin.ts";

const READINESS_CHECK_TIMEOUT_MS = 1500;

export interface HealthPluginOptions {
  serviceId: string;
  config: Pick<AppConfig, "KAFKA_BROKERS" | "SCHEMA_REGISTRY_URL">;
  prisma: PrismaClient;
  /** Defaults to the database (required), Kafka and the schema registry (warn only). */
  checks?: DependencyCheck[];
  closing: ClosingFlag;
}

export async function healthPlugin(scope: FastifyInstance, options: HealthPluginOptions): Promise<void> {
  const { config, prisma, closing } = options;
  const checks = options.checks ?? [databaseCheck(prisma), kafkaCheck(config.KAFKA_BROKERS), schemaRegistryCheck(config.SCHEMA_REGISTRY_URL)];
  registerHealthRoutes(scope, { serviceId: options.serviceId, checks, checkTimeoutMs: READINESS_CHECK_TIMEOUT_MS, isClosing: () => closing.closing });
}
