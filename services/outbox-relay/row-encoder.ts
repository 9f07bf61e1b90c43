import type { SchemaRegistry } from "../shared/avro/schema-registry.ts";
import { encode } from "../shared/avro/schema-registry.ts";
import type { RegisteredEventSchema } from "../shared/events/schema-registration.ts";
import { isEventType, logicalTopicOf, type EventType } from "../shared/events/topic-catalogue.ts";
import { PermanentEncodeError, type OutboxRow } from "./batch-plan.ts";

function isValidationError(error: unknown): error is Error & { paths?: unknown } {
  return error instanceof Error && error.name === "ConfluentSchemaRegistryValidationError";
}

/**
 * Encodes a row's payload with the schema registered for its event type (Confluent wire format). Problems of the row
 * itself become PermanentEncodeError; anything else (registry unreachable on a cache miss) stays transient.
 */
export function createRowEncoder(registry: SchemaRegistry, registered: ReadonlyMap<EventType, RegisteredEventSchema>) {
  return async (row: OutboxRow): Promise<Buffer> => {
    if (!isEventType(row.eventType)) throw new PermanentEncodeError(`unknown event type "${row.eventType}": no schema in schemas/`);
    const schema = registered.get(row.eventType);
    if (schema === undefined) throw new PermanentEncodeError(`no registered schema for event type ${row.eventType}`);
    const expectedTopic = logicalTopicOf(row.eventType);
    if (row.topic !== expectedTopic) throw new PermanentEncodeError(`event type ${row.eventType} belongs on topic "${expectedTopic}", row says "${row.topic}"`);
    if (typeof row.payload !== "object" || row.payload === null) throw new PermanentEncodeError("payload is not a JSON object");
    try {
      return await encode(registry, schema.id, row.payload);
    } catch (error) {
      if (!isValidationError(error)) throw error;
      const paths = Array.isArray(error.paths) ? ` (invalid: ${error.paths.map((p: unknown) => (Array.isArray(p) ? p.join(".") : String(p))).join(", ")})` : "";
      throw new PermanentEncodeError(`payload does not match ${schema.subject}: ${error.message}${paths}`, { cause: error });
    }
  };
}
