import { SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import { CodedError } from "../shared/errors/coded-error.ts";
import { createProducer, partitionForKey } from "../shared/kafka/kafka-client.ts";
import type { IHeaders, Kafka, Message, Producer, RecordMetadata, TopicMessages } from "../shared/kafka/kafka-types.ts";
import { placeRecords, recordingPartitioner, type RecordPlacement } from "../shared/kafka/record-placement.ts";
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER } from "../shared/events/event-headers.ts";
import { contextFromTraceparent, currentTraceparent, type TraceHeaderValue } from "../shared/telemetry/trace-context.ts";
import type { EncodedRow } from "./batch-plan.ts";

const tracer = trace.getTracer("outbox-relay");

/** Sending a batch failed (broker down, timeout): the whole batch stays unpublished and is resent later. */
export class PublishError extends CodedError {
  readonly rows: number;
  constructor(rows: number, cause: unknown) {
    super(
      { code: "RELAY_PUBLISH_FAILED", status: 503, title: "Kafka did not acknowledge the relay's batch", canRetry: true },
      { detail: `publishing ${rows} rows to Kafka failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause, context: { rows } },
    );
    this.name = "PublishError";
    this.rows = rows;
  }
}

export interface PublisherOptions {
  /** Full topic name of a logical topic (applies TOPIC_PREFIX). */
  topicName: (logical: string) => string;
  /** Partitions of every topic (TOPIC_PARTITIONS; the relay refuses to start when a topic has another count). */
  partitions: number;
  /** Broker-side wait for the in-sync replicas' acks. */
  ackTimeoutMs?: number;
}

function storedHeaders(row: EncodedRow["row"]): Record<string, TraceHeaderValue> {
  const headers: Record<string, TraceHeaderValue> = {};
  for (const [name, value] of Object.entries(row.headers)) if (typeof value === "string") headers[name] = value;
  return headers;
}

/**
 * One PRODUCER span per row whose parent is the traceparent stored on the outbox row; the record then carries this
 * span's traceparent, so the consumer's span follows the relay's publish in the order's trace.
 */
function startPublishSpan(row: EncodedRow["row"], topic: string): { span: Span; headers: IHeaders } {
  const parent = contextFromTraceparent(storedHeaders(row));
  const span = tracer.startSpan(
    `publish ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        "messaging.system": "kafka",
        "messaging.operation.name": "publish",
        "messaging.operation.type": "send",
        "messaging.destination.name": topic,
        "messaging.kafka.message.key": row.key,
        "messaging.message.id": row.eventId,
        "orderflow.event_type": row.eventType,
        "orderflow.outbox_id": row.id,
      },
    },
    parent,
  );
  const propagated = currentTraceparent(trace.setSpan(parent, span)) ?? {
    traceparent: typeof row.headers.traceparent === "string" ? row.headers.traceparent : undefined,
    tracestate: typeof row.headers.tracestate === "string" ? row.headers.tracestate : undefined,
  };
  const headers: IHeaders = { [EVENT_TYPE_HEADER]: row.eventType, [EVENT_ID_HEADER]: row.eventId };
  if (propagated.traceparent !== undefined) headers.traceparent = propagated.traceparent;
  if (propagated.tracestate !== undefined) headers.tracestate = propagated.tracestate;
  return { span, headers };
}

/**
 * Groups rows into kafkajs topic batches, keeping each topic's rows in claim (id) order. `messages[i]` is the message
 * of `rows[i]` (to find where it landed).
 */
export function toTopicMessages(
  rows: ReadonlyArray<{ row: EncodedRow["row"]; value: Buffer; headers: IHeaders }>,
  topicName: (logical: string) => string,
): { batches: TopicMessages[]; messages: Message[] } {
  const byTopic = new Map<string, TopicMessages>();
  const messages: Message[] = [];
  for (const { row, value, headers } of rows) {
    const topic = topicName(row.topic);
    let batch = byTopic.get(topic);
    if (batch === undefined) {
      batch = { topic, messages: [] };
      byTopic.set(topic, batch);
    }
    const message = { key: row.key, value, headers };
    batch.messages.push(message);
    messages.push(message);
  }
  return { batches: [...byTopic.values()], messages };
}

/**
 * The topic partitions of a batch that no acknowledgement covers. kafkajs 2.2.4 can resolve sendBatch without
 * writing some messages: when one broker fails and another answers, its retry re-sends only to brokers that have
 * not answered yet, so a partition whose leadership moved to a broker that already answered is never re-sent (a
 * kill -9 of a partition leader lost an order that way; kafkajs PR 1798). Every partition must have its ack.
 */
export function unacknowledgedPartitions(batches: readonly TopicMessages[], acks: readonly RecordMetadata[], partitions: number): string[] {
  const acked = new Set(acks.filter((ack) => ack.errorCode === 0).map((ack) => `${ack.topicName}/${ack.partition}`));
  const sent = new Set(batches.flatMap(({ topic, messages }) => messages.map((m) => `${topic}/${partitionForKey(topic, String(m.key), partitions)}`)));
  return [...sent].filter((partition) => !acked.has(partition)).sort();
}

/**
 * The relay's producer: idempotent, acks from all in-sync replicas, one request in flight per connection, so a retry
 * inside kafkajs can never overtake an earlier request and reorder a partition. After a failed send the producer is
 * replaced: a fresh producer id means no stale sequence numbers after an outage.
 */
export class KafkaPublisher {
  private producer: Producer | undefined;
  /** Remembers the partition of each message sent, so each row's offset can be stored with its mark. */
  private readonly partitions = recordingPartitioner();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: PublisherOptions,
  ) {}

  private async connected(): Promise<Producer> {
    if (this.producer !== undefined) return this.producer;
    const producer = createProducer(this.kafka, { allowAutoTopicCreation: false, createPartitioner: this.partitions.createPartitioner });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    this.producer = producer;
    return producer;
  }

  /**
   * Resolves once every row is acked (acks=-1), with where each row landed (undefined where the broker's answer did
   * not say); rejects with PublishError otherwise (then nothing counts as sent).
   */
  async send(rows: readonly EncodedRow[]): Promise<Array<RecordPlacement | undefined>> {
    if (rows.length === 0) return [];
    const spans = rows.map(({ row }) => startPublishSpan(row, this.options.topicName(row.topic)));
    try {
      const producer = await this.connected();
      const { batches, messages } = toTopicMessages(
        rows.map((r, i) => ({ ...r, headers: spans[i]!.headers })),
        this.options.topicName,
      );
      const metadata = await producer.sendBatch({ topicMessages: batches, acks: -1, timeout: this.options.ackTimeoutMs ?? 10_000 });
      const unacked = unacknowledgedPartitions(batches, metadata, this.options.partitions);
      if (unacked.length > 0) throw new Error(`Kafka acknowledged no write to ${unacked.join(", ")}`);
      const placed = placeRecords(batches, metadata, (message) => this.partitions.partitionOf(message));
      const placements = messages.map((message) => placed.get(message));
      spans.forEach(({ span }, i) => {
        const placement = placements[i];
        if (placement !== undefined)
          span.setAttributes({ "messaging.destination.partition.id": String(placement.partition), "messaging.kafka.message.offset": Number(placement.offset) });
        span.end();
      });
      return placements;
    } catch (error) {
      for (const { span } of spans) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        span.end();
      }
      await this.reset();
      throw new PublishError(rows.length, error);
    }
  }

  async reset(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.reset();
  }
}
