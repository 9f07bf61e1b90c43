import { createSchemaRegistry } from "../shared/avro/schema-registry.ts";
import type { AppConfig } from "../shared/config/config-schema.ts";
import { topicName } from "../shared/config/load-config.ts";
import { loadEventSchemas } from "../shared/events/event-schemas.ts";
import { registerEventSchemas } from "../shared/events/schema-registration.ts";
import { allTopicNames } from "../shared/events/topic-catalogue.ts";
import { ensureTopics, withAdmin } from "../shared/kafka/kafka-admin.ts";
import { kafkaFromConfig } from "../shared/kafka/kafka-from-config.ts";
import type { Kafka } from "../shared/kafka/kafka-types.ts";
import type { Logger } from "../shared/logging/create-logger.ts";
import { KafkaPublisher } from "./kafka-publisher.ts";
import { DEFAULT_RELAY_OPTIONS, OutboxRelay, type RelayOptions } from "./outbox-relay.ts";
import { RelayMetrics } from "./relay-metrics.ts";
import { createRowEncoder } from "./row-encoder.ts";

/** Creates every event and dead-letter topic that is missing (idempotent; safe from several relays at once). */
export async function provisionTopics(kafka: Kafka, config: AppConfig): Promise<string[]> {
  const specs = allTopicNames(config).map((topic) => ({
    topic,
    numPartitions: config.TOPIC_PARTITIONS,
    replicationFactor: config.TOPIC_REPLICATION_FACTOR,
  }));
  return withAdmin(kafka, (admin) => ensureTopics(admin, specs));
}

export function relayOptionsFrom(config: AppConfig): RelayOptions {
  return {
    ...DEFAULT_RELAY_OPTIONS,
    shardCount: config.RELAY_SHARDS,
    batchSize: config.RELAY_BATCH_SIZE,
    pollIntervalMs: config.RELAY_POLL_INTERVAL_MS,
    wakeup: config.RELAY_WAKEUP,
    maxEncodeAttempts: config.RELAY_MAX_ENCODE_ATTEMPTS,
    retentionHours: config.OUTBOX_RETENTION_HOURS,
    retentionIntervalMs: config.OUTBOX_RETENTION_INTERVAL_MS,
    memberLeaseMs: config.RELAY_MEMBER_LEASE_MS,
  };
}

export interface RelayAssembly {
  relay: OutboxRelay;
  metrics: RelayMetrics;
  kafka: Kafka;
}

/**
 * Everything a relay needs before its first batch: topics exist, every schema is registered (ids cached for the
 * encoder). Then a relay instance, not yet started.
 */
export async function assembleRelay(config: AppConfig, logger: Logger, overrides: Partial<RelayOptions> = {}): Promise<RelayAssembly> {
  const kafka = kafkaFromConfig(config, "outbox-relay", logger);
  const created = await provisionTopics(kafka, config);
  if (created.length > 0) logger.info({ topics: created }, "created topics");
  const registry = createSchemaRegistry(config.SCHEMA_REGISTRY_URL);
  const registered = await registerEventSchemas({ url: config.SCHEMA_REGISTRY_URL }, registry, config, loadEventSchemas());
  logger.info({ schemas: [...registered.values()].map(({ subject, id }) => `${subject}#${id}`) }, "event schemas registered");
  const metrics = new RelayMetrics();
  const relay = new OutboxRelay(
    {
      sqlOptions: {
        connectionString: config.DATABASE_URL,
        connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
        statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      },
      publisher: new KafkaPublisher(kafka, { topicName: (logical) => topicName(config, logical), partitions: config.TOPIC_PARTITIONS }),
      encode: createRowEncoder(registry, registered),
      metrics,
      logger,
    },
    { ...relayOptionsFrom(config), ...overrides },
  );
  return { relay, metrics, kafka };
}
