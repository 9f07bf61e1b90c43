/**
 * The AsyncAPI 3.0 description of every topic, key, header and event, built from schemas/*.avsc and the topic
 * catalogue at run time, so it cannot drift from what the relay publishes (nothing here is copied by hand).
 */
import type { AppConfig } from "../config/config-schema.ts";
import { topicName } from "../config/load-config.ts";
import { DLQ_HEADERS } from "../consumer/dead-letter.ts";
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, TRACEPARENT_HEADER, TRACESTATE_HEADER } from "./event-headers.ts";
import { loadEventSchemas, type EventSchema } from "./event-schemas.ts";
import { DLQ_TOPICS, EVENT_TOPIC_NAMES } from "./topic-catalogue.ts";

export const AVRO_SCHEMA_FORMAT = "application/vnd.apache.avro+json;version=1.9.0";
const KAFKA_BINDING_VERSION = "0.5.0";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A plain JSON object (the document as served); typed loosely on purpose, the AsyncAPI parser is the checker. */
export type AsyncApiDocument = JsonObject;

export interface AsyncApiOptions {
  config: Pick<AppConfig, "TOPIC_PREFIX" | "KAFKA_BROKERS">;
  /** Already loaded schemas (tests); schemas/*.avsc by default. */
  schemas?: readonly EventSchema[];
  version?: string;
}

/** Component and channel ids allow only [A-Za-z0-9_-]; topic names may contain dots. */
function idOf(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, "-");
}

function ref(pointer: string): JsonObject {
  return { $ref: pointer };
}

const stringHeader = (description: string): JsonObject => ({ type: "string", description });

function eventHeaders(): JsonObject {
  return {
    type: "object",
    required: [EVENT_TYPE_HEADER, EVENT_ID_HEADER],
    properties: {
      [EVENT_TYPE_HEADER]: stringHeader("Avro record name of the value (e.g. OrderPlaced); consumers dispatch on it."),
      [EVENT_ID_HEADER]: { type: "string", format: "uuid", description: "Id of the event (the consumers' inbox key)." },
      [TRACEPARENT_HEADER]: stringHeader("W3C trace context of the order's trace (the relay's publish span)."),
      [TRACESTATE_HEADER]: stringHeader("W3C trace state, when the trace has one."),
    },
  };
}

function deadLetterHeaders(): JsonObject {
  const base = eventHeaders();
  const properties = { ...(base.properties as JsonObject) };
  for (const name of Object.values(DLQ_HEADERS)) properties[name] = stringHeader(`Dead-letter metadata (${name.slice("dlq-".length)}).`);
  return { ...base, properties };
}

function messageOf(schema: EventSchema, headers: "event" | "dead-letter"): JsonObject {
  const doc = (schema.schema as { doc?: unknown }).doc;
  return {
    name: schema.eventType,
    title: schema.eventType,
    summary: typeof doc === "string" ? doc : `${schema.eventType} event`,
    contentType: "application/octet-stream",
    headers: headers === "event" ? eventHeaders() : deadLetterHeaders(),
    payload: { schemaFormat: AVRO_SCHEMA_FORMAT, schema: JSON.parse(schema.text) as Json },
    correlationId: { description: "The order id, also the record key.", location: "$message.payload#/order_id" },
    bindings: {
      kafka: {
        key: { type: "string", format: "uuid", description: "The order id: one order's events of a topic stay in order on one partition." },
        schemaIdLocation: "payload",
        schemaIdPayloadEncoding: "confluent",
        schemaLookupStrategy: "TopicRecordNameStrategy",
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

function channel(address: string, description: string, messageIds: readonly string[]): JsonObject {
  const messages: JsonObject = {};
  for (const id of messageIds) messages[id] = ref(`#/components/messages/${id}`);
  return { address, description, messages, bindings: { kafka: { bindingVersion: KAFKA_BINDING_VERSION } } };
}

function sendOperation(channelId: string, messageIds: readonly string[], summary: string): JsonObject {
  return {
    action: "send",
    summary,
    channel: ref(`#/channels/${channelId}`),
    messages: messageIds.map((id) => ref(`#/channels/${channelId}/messages/${id}`)),
  };
}

function eventParts(options: AsyncApiOptions, schemas: readonly EventSchema[]): { channels: JsonObject; operations: JsonObject } {
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  for (const topic of EVENT_TOPIC_NAMES) {
    const ids = schemas.filter((schema) => schema.topic === topic).map((schema) => schema.eventType);
    const channelId = idOf(topic);
    channels[channelId] = channel(topicName(options.config, topic), `Events of the ${topic} family, keyed by order id.`, ids);
    operations[`publish-${channelId}`] = sendOperation(channelId, ids, `The outbox relay publishes ${topic} events (Avro, Confluent wire format).`);
  }
  return { channels, operations };
}

/** A dead-letter topic may hold any event its group consumes; its records keep key and value, plus dlq-* headers. */
function deadLetterParts(options: AsyncApiOptions, schemas: readonly EventSchema[]): { channels: JsonObject; operations: JsonObject; messages: JsonObject } {
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  const messages: JsonObject = {};
  const ids = schemas.map((schema) => `${schema.eventType}DeadLetter`);
  schemas.forEach((schema, index) => (messages[ids[index]!] = { ...messageOf(schema, "dead-letter"), name: ids[index]! }));
  for (const topic of DLQ_TOPICS) {
    const channelId = idOf(topic);
    const group = topic.slice("dlq.".length);
    channels[channelId] = channel(topicName(options.config, topic), `Poison messages of consumer group ${group}, with the error in dlq-* headers.`, ids);
    operations[`dead-letter-${channelId}`] = sendOperation(channelId, ids, `Consumer group ${group} dead-letters a record it cannot process.`);
  }
  return { channels, operations, messages };
}

export function buildAsyncApiDocument(options: AsyncApiOptions): AsyncApiDocument {
  const schemas = options.schemas ?? loadEventSchemas();
  const events = eventParts(options, schemas);
  const dlq = deadLetterParts(options, schemas);
  const messages: JsonObject = {};
  for (const schema of schemas) messages[schema.eventType] = messageOf(schema, "event");
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Orderflow events",
      version: options.version ?? "1.0.0",
      description: "Every Kafka topic, key, header and event of Orderflow, generated from schemas/*.avsc and the topic catalogue.",
    },
    defaultContentType: "application/octet-stream",
    servers: {
      local: { host: options.config.KAFKA_BROKERS.split(",")[0]!.trim(), protocol: "kafka", description: "The first broker of KAFKA_BROKERS." },
    },
    channels: { ...events.channels, ...dlq.channels },
    operations: { ...events.operations, ...dlq.operations },
    components: { messages: { ...messages, ...dlq.messages } },
  };
}
