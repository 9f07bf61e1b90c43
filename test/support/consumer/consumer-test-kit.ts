// Shared by the consumer integration tests (runner, inventory, order-state): a unique TOPIC_PREFIX per bench,
// schemas registered for it, a producer that writes Avro records straight to a topic (no relay needed), runners
// with an outcome log to wait on, and a collector of the group's dead-letter topic.
import { encode } from "../../../services/shared/avro/schema-registry.ts";
import type { AppConfig } from "../../../services/shared/config/config-schema.ts";
import { topicName } from "../../../services/shared/config/load-config.ts";
import { loadEventSchemas } from "../../../services/shared/events/event-schemas.ts";
import type { EventPayloads } from "../../../services/shared/events/event-payloads.ts";
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER } from "../../../services/shared/events/event-headers.ts";
import { registerEventSchemas, type RegisteredEventSchema } from "../../../services/shared/events/schema-registration.ts";
import { allTopicNames, EVENT_TOPICS, type EventType } from "../../../services/shared/events/topic-catalogue.ts";
import { deleteTopics, ensureTopics, withAdmin } from "../../../services/shared/kafka/kafka-admin.ts";
import { createProducer } from "../../../services/shared/kafka/kafka-client.ts";
import type { Producer } from "../../../services/shared/kafka/kafka-types.ts";
import { createLogger } from "../../../services/shared/logging/create-logger.ts";
import { startCollector, testConfig, uniquePrefix, waitUntil } from "../stack-test-kit.ts";
import type { ConsumerDefinition } from "../../../services/shared/consumer/consumer-handler.ts";
import type { OutcomeRecord, RunnerOptions } from "../../../services/shared/consumer/consumer-runner.ts";
import { ConsumerRunner } from "../../../services/shared/consumer/consumer-runner.ts";
import { createConsumerClients, createRunner, type ConsumerClients } from "../../../services/shared/consumer/consumer-setup.ts";

export { waitUntil };

/** Fast retries and pauses so failure paths finish in seconds. */
const FAST: Record<string, string> = {
  CONSUMER_RETRY_INITIAL_MS: "20",
  CONSUMER_RETRY_MAX_MS: "200",
  CONSUMER_DB_PAUSE_INITIAL_MS: "200",
  CONSUMER_DB_PAUSE_MAX_MS: "1000",
  CONSUMER_SESSION_TIMEOUT_MS: "10000",
  SHUTDOWN_GRACE_MS: "10000",
  DATABASE_CONNECT_TIMEOUT_MS: "1000",
};

export interface TestRunner {
  runner: ConsumerRunner;
  outcomes: OutcomeRecord[];
  pauses: number;
  waitForOutcomes(count: number, timeoutMs: number): Promise<OutcomeRecord[]>;
  /** Until every one of these event ids has an outcome (a redelivered copy's "duplicate" does not stand in for it). */
  waitForEvents(eventIds: readonly string[], timeoutMs: number): Promise<OutcomeRecord[]>;
  stop(): Promise<void>;
}

export class ConsumerTestBench {
  private readonly runners: TestRunner[] = [];
  private readonly extraClients: ConsumerClients[] = [];

  private constructor(
    readonly config: AppConfig,
    readonly clients: ConsumerClients,
    private readonly producer: Producer,
    private readonly schemas: Map<EventType, RegisteredEventSchema>,
  ) {}

  static async create(name: string, env: Record<string, string> = {}): Promise<ConsumerTestBench> {
    const config = testConfig(uniquePrefix(name), { ...FAST, ...env });
    const clients = createConsumerClients(config, createLogger({ service: name, level: "warn" }), name);
    const schemas = await registerEventSchemas({ url: config.SCHEMA_REGISTRY_URL }, clients.registry, config, loadEventSchemas());
    const specs = allTopicNames(config).map((topic) => ({ topic, numPartitions: config.TOPIC_PARTITIONS, replicationFactor: config.TOPIC_REPLICATION_FACTOR }));
    await withAdmin(clients.kafka, (admin) => ensureTopics(admin, specs));
    // Idempotent like the relay's: a plain producer retrying a request the broker partly refused (NOT_LEADER on a
    // new topic) appends the accepted partitions twice, and a test counting outcomes would stop early.
    const producer = createProducer(clients.kafka, { allowAutoTopicCreation: false });
    await producer.connect();
    return new ConsumerTestBench(config, clients, producer, schemas);
  }

  topic(logical: string): string {
    return topicName(this.config, logical);
  }

  /** Encodes with the registered schema and writes it to the event's topic, keyed by order id. */
  async publish<E extends EventType>(eventType: E, payload: EventPayloads[E], headers: Record<string, string> = {}): Promise<void> {
    await this.publishMany(eventType, [payload], headers);
  }

  async publishMany<E extends EventType>(eventType: E, payloads: readonly EventPayloads[E][], headers: Record<string, string> = {}): Promise<void> {
    const schema = this.schemas.get(eventType);
    if (!schema) throw new Error(`no schema registered for ${eventType}`);
    const messages = await Promise.all(
      payloads.map(async (payload) => ({
        key: payload.order_id,
        value: await encode(this.clients.registry, schema.id, payload),
        headers: { [EVENT_TYPE_HEADER]: eventType, [EVENT_ID_HEADER]: payload.event_id, ...headers },
      })),
    );
    for (let start = 0; start < messages.length; start += 500) {
      await this.producer.send({ topic: this.topic(EVENT_TOPICS[eventType]), acks: -1, messages: messages.slice(start, start + 500) });
    }
  }

  /** Any bytes, e.g. poison input, straight to a topic. */
  async publishRaw(logicalTopic: string, key: string, value: Buffer, headers: Record<string, string> = {}): Promise<void> {
    await this.producer.send({ topic: this.topic(logicalTopic), acks: -1, messages: [{ key, value, headers }] });
  }

  /** Starts a runner; `databaseUrl` lets a test route it through a cuttable proxy. */
  async startRunner(definition: ConsumerDefinition, options: { overrides?: Partial<RunnerOptions>; databaseUrl?: string } = {}): Promise<TestRunner> {
    let clients = this.clients;
    if (options.databaseUrl) {
      clients = createConsumerClients({ ...this.config, DATABASE_URL: options.databaseUrl }, this.clients.logger, "consumer-test");
      this.extraClients.push(clients);
    }
    const runner = createRunner(definition, clients, options.overrides);
    const handle: TestRunner = {
      runner,
      outcomes: [],
      pauses: 0,
      async waitForOutcomes(count, timeoutMs) {
        await waitUntil(
          async () => handle.outcomes.length >= count,
          timeoutMs,
          `${count} outcomes of group ${definition.group} (have ${handle.outcomes.length})`,
        );
        return handle.outcomes;
      },
      async waitForEvents(eventIds, timeoutMs) {
        const missing = (): number => {
          const seen = new Set(handle.outcomes.filter((o) => o.outcome !== "duplicate").map((o) => o.eventId));
          return eventIds.filter((id) => !seen.has(id)).length;
        };
        await waitUntil(async () => missing() === 0, timeoutMs, `an outcome for each of ${eventIds.length} events in group ${definition.group}`);
        return handle.outcomes;
      },
      stop: () => runner.stop(),
    };
    runner.onOutcome((record) => handle.outcomes.push(record));
    runner.onPause(() => (handle.pauses += 1));
    await runner.start();
    this.runners.push(handle);
    return handle;
  }

  /** Collects every record of the group's DLQ topic from the beginning. */
  async dlqCollector(group: string) {
    const topic = this.topic(`dlq.${group}`);
    await withAdmin(this.clients.kafka, (admin) =>
      ensureTopics(admin, [{ topic, numPartitions: this.config.TOPIC_PARTITIONS, replicationFactor: this.config.TOPIC_REPLICATION_FACTOR }]),
    );
    return startCollector(this.clients.kafka, [topic]);
  }

  /** Stops the runners and deletes this bench's topics (each bench would otherwise leave ~40 partitions behind). */
  async close(): Promise<void> {
    for (const runner of this.runners) await runner.stop();
    await this.producer.disconnect();
    const prefix = this.config.TOPIC_PREFIX;
    await withAdmin(this.clients.kafka, async (admin) =>
      deleteTopics(
        admin,
        (await admin.listTopics()).filter((topic) => topic.startsWith(prefix)),
      ),
    );
    for (const clients of [...this.extraClients, this.clients]) await clients.close();
  }
}
