import confluentSchemaRegistry from "@kafkajs/confluent-schema-registry";
import type { SchemaRegistry } from "@kafkajs/confluent-schema-registry";

// The library is CommonJS: take its runtime values from the default export.
const { SchemaRegistry: SchemaRegistryClient, SchemaType, COMPATIBILITY } = confluentSchemaRegistry;

export type { SchemaRegistry };

/** An Avro record schema as found in schemas/*.avsc (only the parts we read; the rest passes through). */
export interface AvroRecordSchema {
  type: "record";
  name: string;
  namespace?: string;
  fields: unknown[];
}

export interface RegisteredSchema {
  /** The id written into every record (bytes 1..4 of the Confluent wire format). */
  id: number;
  subject: string;
}

export interface SchemaRegistryOptions {
  /** Per HTTP request. */
  timeoutMs?: number;
  /** Bounded retries of failed requests (the library backs off exponentially). */
  retries?: number;
  clientId?: string;
}

type Middleware = NonNullable<ConstructorParameters<typeof SchemaRegistryClient>[0]["middlewares"]>[number];

/** Gives every request a timeout unless it has one: the library has none by default and would wait forever. */
function timeoutMiddleware(timeoutMs: number): Middleware {
  return () => ({
    async prepareRequest(next) {
      const request = await next();
      return request.timeout() ? request : request.enhance({ timeout: timeoutMs });
    },
  });
}

/**
 * A client of a Confluent-compatible registry. `url` is the API base, e.g. Apicurio's
 * http://127.0.0.1:8081/apis/ccompat/v7 (no trailing slash needed).
 */
export function createSchemaRegistry(url: string, options: SchemaRegistryOptions = {}): SchemaRegistry {
  return new SchemaRegistryClient({
    host: url.replace(/\/+$/, ""),
    clientId: options.clientId ?? "orderflow",
    retry: { retries: options.retries ?? 3, maxRetryTimeInSecs: 5 },
    middlewares: [timeoutMiddleware(options.timeoutMs ?? 5_000)],
  });
}

export function parseAvroSchema(avsc: string | AvroRecordSchema): AvroRecordSchema {
  const schema: unknown = typeof avsc === "string" ? JSON.parse(avsc) : avsc;
  if (!isRecordSchema(schema)) throw new TypeError("expected an Avro record schema with a name and fields");
  return schema;
}

function isRecordSchema(value: unknown): value is AvroRecordSchema {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return candidate.type === "record" && typeof candidate.name === "string" && Array.isArray(candidate.fields);
}

/** The record's full name: namespace.name (a dotted name is already full, as in the Avro spec). */
export function recordFullName(schema: AvroRecordSchema): string {
  if (schema.name.includes(".") || !schema.namespace) return schema.name;
  return `${schema.namespace}.${schema.name}`;
}

/** Subject under the topic-record name strategy: `<topic>-<record full name>`. */
export function topicRecordSubject(topic: string, schema: AvroRecordSchema): string {
  return `${topic}-${recordFullName(schema)}`;
}

/**
 * Registers (or finds) the schema under `<topic>-<record full name>` and returns its id. Registering the same schema
 * again returns the same id; an incompatible change fails with the registry's error (compatibility BACKWARD).
 */
export async function registerSchema(registry: SchemaRegistry, topic: string, avsc: string | AvroRecordSchema): Promise<RegisteredSchema> {
  const schema = parseAvroSchema(avsc);
  const subject = topicRecordSubject(topic, schema);
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject, compatibility: COMPATIBILITY.BACKWARD });
  return { id, subject };
}

/** Confluent wire format: magic byte 0, the schema id (4 bytes, big endian), then the Avro body. */
export async function encode(registry: SchemaRegistry, schemaId: number, value: object): Promise<Buffer> {
  return registry.encode(schemaId, value);
}

/** Decodes a wire-format buffer with the writer schema fetched (and cached) by its id. Validate the result yourself. */
export async function decode(registry: SchemaRegistry, buffer: Buffer): Promise<unknown> {
  const value: unknown = await registry.decode(buffer);
  return value;
}

/** The schema id of a wire-format buffer, or undefined when it is not in that format (e.g. poison input). */
export function readSchemaId(buffer: Buffer): number | undefined {
  if (buffer.length < 5 || buffer[0] !== 0) return undefined;
  return buffer.readUInt32BE(1);
}
