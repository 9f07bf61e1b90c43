import type pg from "pg";
import { createSchemaRegistry, type SchemaRegistry } from "../avro/schema-registry.ts";
import type { AppConfig } from "../config/config-schema.ts";
import { topicName } from "../config/load-config.ts";
import { poolFromConfig } from "../db/pool.ts";
import { kafkaFromConfig } from "../kafka/kafka-from-config.ts";
import type { Kafka } from "../kafka/kafka-types.ts";
import type { Logger } from "../logging/create-logger.ts";
import type { ConsumerDefinition } from "./consumer-handler.ts";
import { ConsumerRunner, type RunnerOptions } from "./consumer-runner.ts";

/** Applied records waiting for their offset commit that make it happen at once (a crash redoes at most these). */
const COMMIT_THRESHOLD = 100;

/** Runner options from validated configuration (CONSUMER_* variables, see config-schema.ts). */
export function runnerOptionsFrom(config: AppConfig): RunnerOptions {
  return {
    topicName: (logical) => topicName(config, logical),
    maxWaitTimeInMs: config.CONSUMER_MAX_WAIT_MS,
    minBytes: config.CONSUMER_MIN_BYTES,
    sessionTimeoutMs: config.CONSUMER_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: config.CONSUMER_HEARTBEAT_INTERVAL_MS,
    partitionsConcurrency: config.CONSUMER_PARTITIONS_CONCURRENCY,
    batchSize: config.CONSUMER_BATCH_SIZE,
    lingerMs: config.CONSUMER_LINGER_MS,
    commitIntervalMs: config.CONSUMER_COMMIT_INTERVAL_MS,
    commitThreshold: COMMIT_THRESHOLD,
    maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
    retryBackoff: { initialMs: config.CONSUMER_RETRY_INITIAL_MS, maxMs: config.CONSUMER_RETRY_MAX_MS, factor: 2 },
    pauseBackoff: { initialMs: config.CONSUMER_DB_PAUSE_INITIAL_MS, maxMs: config.CONSUMER_DB_PAUSE_MAX_MS, factor: 2 },
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    topicPartitions: config.TOPIC_PARTITIONS,
    replicationFactor: config.TOPIC_REPLICATION_FACTOR,
  };
}

/** The clients a consumer service (and its extensions, e.g. a reconciliation job) share. */
export interface ConsumerClients {
  config: AppConfig;
  logger: Logger;
  /** One pool for the runner's transactions and the extensions' jobs (raw SQL: consumers never load Prisma). */
  pool: pg.Pool;
  kafka: Kafka;
  registry: SchemaRegistry;
  /** Ends the database pool (Kafka clients are the runner's to disconnect). */
  close(): Promise<void>;
}

export function createConsumerClients(config: AppConfig, logger: Logger, clientId: string): ConsumerClients {
  const pool = poolFromConfig(config, clientId, logger);
  const kafka = kafkaFromConfig(config, clientId, logger);
  const registry = createSchemaRegistry(config.SCHEMA_REGISTRY_URL, { clientId });
  return { config, logger, pool, kafka, registry, close: () => pool.end().catch(() => undefined) };
}

/** A runner for `definition` on the given clients, options from config with optional overrides (tests). */
export function createRunner(definition: ConsumerDefinition, clients: ConsumerClients, overrides: Partial<RunnerOptions> = {}): ConsumerRunner {
  return new ConsumerRunner(
    definition,
    { kafka: clients.kafka, pool: clients.pool, registry: clients.registry, logger: clients.logger, databaseUrl: clients.config.DATABASE_URL },
    { ...runnerOptionsFrom(clients.config), ...overrides },
  );
}
