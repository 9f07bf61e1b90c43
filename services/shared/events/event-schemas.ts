import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAvroSchema, recordFullName, type AvroRecordSchema } from "../avro/schema-registry.ts";
import { EVENT_NAMESPACE, logicalTopicOf, type EventTopic, type EventType } from "./topic-catalogue.ts";

/** The repository's schemas/ folder (one .avsc per event type, file name = record name). */
export const DEFAULT_SCHEMAS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../schemas");

export interface EventSchema {
  eventType: EventType;
  /** Logical topic (no TOPIC_PREFIX). */
  topic: EventTopic;
  /** namespace.name, the second half of the topic-record subject. */
  fullName: string;
  schema: AvroRecordSchema;
  /** The .avsc text as JSON (normalised: parsed and re-serialised). */
  text: string;
  file: string;
}

/** A schema file that does not follow the conventions; names the file and what is wrong. */
export class EventSchemaError extends Error {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${path.basename(file)}: ${message}`, options);
    this.name = "EventSchemaError";
    this.file = file;
  }
}

function loadOne(file: string): EventSchema {
  let schema: AvroRecordSchema;
  try {
    schema = parseAvroSchema(readFileSync(file, "utf8"));
  } catch (error) {
    throw new EventSchemaError(file, `not a valid Avro record schema (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  const expectedName = path.basename(file, ".avsc");
  if (schema.name !== expectedName) throw new EventSchemaError(file, `record name ${schema.name} must equal the file name ${expectedName}`);
  if (schema.namespace !== EVENT_NAMESPACE) throw new EventSchemaError(file, `namespace must be ${EVENT_NAMESPACE}`);
  const topic = logicalTopicOf(schema.name);
  if (topic === undefined) throw new EventSchemaError(file, `event type ${schema.name} has no topic in services/shared/events/topic-catalogue.ts`);
  return { eventType: schema.name as EventType, topic, fullName: recordFullName(schema), schema, text: JSON.stringify(schema), file };
}

/** Reads every schemas/*.avsc, sorted by file name; throws EventSchemaError on the first bad file. */
export function loadEventSchemas(dir: string = DEFAULT_SCHEMAS_DIR): EventSchema[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".avsc"))
    .sort()
    .map((name) => loadOne(path.join(dir, name)));
}

/** Subject under the topic-record strategy for a full topic name: `<topic>-<record full name>`. */
export function subjectOf(fullTopic: string, schema: Pick<EventSchema, "fullName">): string {
  return `${fullTopic}-${schema.fullName}`;
}
