import { decode, readSchemaId, type SchemaRegistry } from "../avro/schema-registry.ts";
import { EVENT_TYPE_HEADER } from "../events/event-headers.ts";
import { DependencyUnavailableError } from "../errors/dependency-errors.ts";
import { PermanentError } from "./consumer-handler.ts";

/** What the runner needs of a Kafka record (kept free of kafkajs types so it can be built in unit tests). */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Readonly<Record<string, string>>;
}

export interface DecodedEvent {
  /** Record name without namespace, e.g. "OrderPlaced" (may be a type this build does not know). */
  eventType: string;
  eventId: string;
  orderId: string;
  occurredAt: Date;
  payload: Record<string, unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Kafka header values (Buffers, possibly repeated) as text: the first value of each header. */
export function headersAsText(headers: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>> | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) text[name] = typeof first === "string" ? first : first.toString("utf8");
  }
  return text;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/** The writer schema's record name; an id the registry does not know is poison, a registry outage is not. */
async function writerRecordName(registry: SchemaRegistry, schemaId: number): Promise<string> {
  try {
    const schema = (await registry.getSchema(schemaId)) as { name?: unknown };
    if (typeof schema.name !== "string") throw new PermanentError(`schema ${schemaId} is not an Avro record`, { code: "NOT_A_RECORD_SCHEMA" });
    return schema.name;
  } catch (error) {
    if (error instanceof PermanentError) throw error;
    const status = statusOf(error);
    if (status === 404 || status === 422)
      throw new PermanentError(`schema id ${schemaId} is unknown to the registry`, { code: "UNKNOWN_SCHEMA_ID", cause: error });
    throw new DependencyUnavailableError("schema-registry", `schema registry unavailable: ${error instanceof Error ? error.message : String(error)}`, {
      code: "REGISTRY_UNAVAILABLE",
      cause: error,
    });
  }
}

function requireField(payload: Record<string, unknown>, name: string, check: (value: unknown) => boolean, what: string): void {
  if (!check(payload[name])) throw new PermanentError(`field ${name} must be ${what}, got ${JSON.stringify(payload[name])}`, { code: "INVALID_EVENT" });
}

/** The common fields every event must carry; anything else is the writer schema's business. */
function validateCommon(payload: Record<string, unknown>): void {
  requireField(payload, "event_id", (v) => typeof v === "string" && UUID.test(v), "a UUID");
  requireField(payload, "order_id", (v) => typeof v === "string" && UUID.test(v), "a UUID");
  requireField(payload, "occurred_at", (v) => typeof v === "number" && Number.isFinite(v) && v > 0, "epoch milliseconds");
}

/**
 * Decodes a Confluent wire-format Avro record. PermanentError for input that can never decode (not wire format,
 * unknown schema id, corrupt body, missing common fields, event-type header contradicting the schema);
 * TransientError when the registry cannot be asked right now.
 */
export async function decodeRecord(registry: SchemaRegistry, record: RawRecord): Promise<DecodedEvent> {
  const value = record.value;
  if (value === null || value.length === 0) throw new PermanentError("record has no value (tombstone)", { code: "EMPTY_VALUE" });
  const schemaId = readSchemaId(value);
  if (schemaId === undefined)
    throw new PermanentError("value is not in the schema registry wire format (magic byte 0 + schema id)", { code: "NOT_WIRE_FORMAT" });
  const fullName = await writerRecordName(registry, schemaId);
  let decoded: unknown;
  try {
    decoded = await decode(registry, value);
  } catch (error) {
    throw new PermanentError(`Avro body does not decode with schema ${schemaId} (${fullName}): ${error instanceof Error ? error.message : String(error)}`, {
      code: "AVRO_DECODE_FAILED",
      cause: error,
    });
  }
  if (typeof decoded !== "object" || decoded === null) throw new PermanentError("decoded value is not a record", { code: "INVALID_EVENT" });
  const payload = { ...(decoded as Record<string, unknown>) };
  validateCommon(payload);
  const eventType = fullName.slice(fullName.lastIndexOf(".") + 1);
  const headerType = record.headers[EVENT_TYPE_HEADER];
  if (headerType !== undefined && headerType !== eventType) {
    throw new PermanentError(`header ${EVENT_TYPE_HEADER}=${headerType} contradicts the writer schema ${fullName}`, { code: "INVALID_EVENT" });
  }
  return {
    eventType,
    eventId: payload.event_id as string,
    orderId: payload.order_id as string,
    occurredAt: new Date(payload.occurred_at as number),
    payload,
  };
}
