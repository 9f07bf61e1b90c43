import kafkajs from "kafkajs";
import type { Admin, AdminConfig, Consumer, ConsumerConfig, Kafka, KafkaConfig, LogEntry, Producer, ProducerConfig, RequestTimeoutEvent } from "kafkajs";
import { BrokerSockets } from "./broker-sockets.ts";

// kafkajs is CommonJS: take the runtime values from its default export (works under tsx, vitest and plain node).
const { Kafka: KafkaClient, logLevel: KafkaLogLevel, Partitioners } = kafkajs;

export type KafkaLogLevelName = "nothing" | "error" | "warn" | "info" | "debug";

export interface KafkaLogRecord {
  level: Exclude<KafkaLogLevelName, "nothing">;
  /** kafkajs component, e.g. "Connection", "Consumer". */
  namespace: string;
  message: string;
  /** Structured extras kafkajs attaches (broker, clientId, error, stack, ...). */
  details: Record<string, unknown>;
}

export interface KafkaClientOptions {
  /** "host:port" list; use 127.0.0.1, not localhost (Node may resolve it to ::1). */
  brokers: string[];
  clientId: string;
  /** TCP connect timeout per broker. */
  connectionTimeoutMs?: number;
  /** Timeout of one protocol request. */
  requestTimeoutMs?: number;
  /** How many times kafkajs retries a failed request (bounded; 0 for health checks that must answer fast). */
  retries?: number;
  /** Lowest level that is logged; "error" by default because kafkajs is chatty at info. */
  logLevel?: KafkaLogLevelName;
  /** Where log records go; one line of JSON on stderr by default. The services pass their pino logger here. */
  log?: (record: KafkaLogRecord) => void;
}

const levelByName = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
} as const;

function levelName(level: number): KafkaLogRecord["level"] {
  if (level <= KafkaLogLevel.ERROR) return "error";
  if (level === KafkaLogLevel.WARN) return "warn";
  if (level === KafkaLogLevel.INFO) return "info";
  return "debug";
}

const writeToStderr = (record: KafkaLogRecord): void => {
  process.stderr.write(`${JSON.stringify({ source: "kafkajs", ...record })}\n`);
};

/**
 * kafkajs' client, except that a request timing out takes its broker's connections down with it (see
 * broker-sockets.ts): every consumer, producer and admin it makes reports its request timeouts here.
 */
class ReconnectingKafka extends KafkaClient {
  constructor(
    config: KafkaConfig,
    private readonly sockets: BrokerSockets,
    private readonly sink: (record: KafkaLogRecord) => void,
  ) {
    super({ ...config, socketFactory: sockets.factory });
  }

  override consumer(config: ConsumerConfig): Consumer {
    const consumer = super.consumer(config);
    consumer.on(consumer.events.REQUEST_TIMEOUT, (event) => this.resetAfterTimeout(event));
    return consumer;
  }

  override producer(config?: ProducerConfig): Producer {
    const producer = super.producer(config);
    producer.on(producer.events.REQUEST_TIMEOUT, (event) => this.resetAfterTimeout(event));
    return producer;
  }

  override admin(config?: AdminConfig): Admin {
    const admin = super.admin(config);
    admin.on(admin.events.REQUEST_TIMEOUT, (event) => this.resetAfterTimeout(event));
    return admin;
  }

  private resetAfterTimeout({ payload }: RequestTimeoutEvent): void {
    const reason = `${payload.apiName} request to ${payload.broker} timed out after ${Date.now() - payload.sentAt} ms: connection reset`;
    const sockets = this.sockets.reset(payload.broker, reason);
    this.sink({
      level: "warn",
      namespace: "Connection",
      message: "request timed out: connection reset",
      details: { broker: payload.broker, clientId: payload.clientId, apiName: payload.apiName, sockets },
    });
  }
}

/** A kafkajs client with bounded timeouts and retries and a quiet, structured logger. Connects lazily. */
export function createKafka(options: KafkaClientOptions): Kafka {
  const sink = options.log ?? writeToStderr;
  // kafkajs logs every error response at ERROR, even retriable ones it then retries ("coordinator is loading"
  // right after a broker start). The caller gets the final error anyway, so those are shown only at debug level.
  const configured = levelByName[options.logLevel ?? "error"];
  const showResponseErrors = configured >= KafkaLogLevel.DEBUG;
  const config: KafkaConfig = {
    brokers: options.brokers,
    clientId: options.clientId,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    retry: { retries: options.retries ?? 5, initialRetryTime: 100, maxRetryTime: 5_000 },
    logLevel: configured,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _logger, ...details } = log;
        if (!showResponseErrors && namespace === "Connection" && message.startsWith("Response ")) return;
        sink({ level: levelName(level), namespace, message, details });
      },
  };
  const warnings = configured >= KafkaLogLevel.WARN ? sink : () => undefined;
  return new ReconnectingKafka(config, new BrokerSockets(), warnings);
}

/**
 * A producer that partitions like the Java client (murmur2 of the key), so a key lands on the same partition
 * whichever client wrote it; saying so explicitly also silences kafkajs' partitioner warning.
 * It is idempotent unless told otherwise: a plain producer that retries a request the broker partly refused
 * (NOT_LEADER on a fresh topic) appends the accepted partitions twice, and every writer here (relay, dead-letter
 * sender, replay, benches, test kits) relies on one append per send.
 */
export function createProducer(kafka: Kafka, config: ProducerConfig = {}): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, ...config });
}

const keyPartitioner = Partitioners.DefaultPartitioner();

/** The partition createProducer's partitioner picks for a keyed message on a topic of `partitions` partitions. */
export function partitionForKey(topic: string, key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [], isr: [] }));
  return keyPartitioner({ topic, partitionMetadata, message: { key, value: null } });
}

/** "host:port" list from a comma-separated string such as KAFKA_BROKERS="127.0.0.1:9092,127.0.0.1:9192". */
export function parseBrokers(list: string): string[] {
  return list
    .split(",")
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
}
