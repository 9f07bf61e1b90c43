import type { SchemaRegistry } from "../avro/schema-registry.ts";
import type { AppConfig } from "../config/config-schema.ts";
import { topicName } from "../config/load-config.ts";
import { subjectOf, type EventSchema } from "./event-schemas.ts";
import type { EventType } from "./topic-catalogue.ts";

/**
 * Subject-level compatibility of every event subject. FULL = BACKWARD + FORWARD: new readers read old records
 * (replays) and readers still on the old schema read new records (the relay publishes before every consumer is
 * redeployed). BACKWARD alone accepts deleting a required field, which breaks those old readers (docs/outbox-relay.md).
 */
export const SUBJECT_COMPATIBILITY = "FULL";

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

/** The registry answered with an error or not at all; says which request and what it answered. */
export class SchemaRegistryRequestError extends Error {
  readonly status: number | undefined;
  constructor(request: string, status: number | undefined, detail: string, options?: { cause?: unknown }) {
    super(`schema registry ${request}: ${status === undefined ? "" : `HTTP ${status} `}${detail}`, options);
    this.name = "SchemaRegistryRequestError";
    this.status = status;
  }
}

interface RegistryResponse {
  status: number;
  body: unknown;
}

async function registryRequest(baseUrl: string, method: string, pathname: string, body: unknown, timeoutMs: number): Promise<RegistryResponse> {
  const request = `${method} ${pathname}`;
  let response: Response;
  try {
    response = await fetch(`${baseUrl.replace(/\/+$/, "")}${pathname}`, {
      method,
      headers: { "content-type": CONTENT_TYPE, accept: CONTENT_TYPE },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new SchemaRegistryRequestError(request, undefined, error instanceof Error ? error.message : String(error), { cause: error });
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text for the error message
  }
  return { status: response.status, body: parsed };
}

function expectOk(request: string, response: RegistryResponse): unknown {
  if (response.status >= 200 && response.status < 300) return response.body;
  throw new SchemaRegistryRequestError(request, response.status, JSON.stringify(response.body));
}

export interface RegistryEndpoint {
  /** Confluent API base, e.g. http://127.0.0.1:8081/apis/ccompat/v7 */
  url: string;
  timeoutMs?: number;
}

export interface RegisteredEventSchema {
  eventType: EventType;
  subject: string;
  /** The id written into each record (wire format bytes 1..4). */
  id: number;
}

const enc = encodeURIComponent;

async function setSubjectCompatibility(endpoint: RegistryEndpoint, subject: string): Promise<RegistryResponse> {
  return registryRequest(endpoint.url, "PUT", `/config/${enc(subject)}`, { compatibility: SUBJECT_COMPATIBILITY }, endpoint.timeoutMs ?? 5_000);
}

async function postVersion(endpoint: RegistryEndpoint, subject: string, text: string): Promise<number> {
  const pathname = `/subjects/${enc(subject)}/versions`;
  const body = expectOk(`POST ${pathname}`, await registryRequest(endpoint.url, "POST", pathname, { schema: text }, endpoint.timeoutMs ?? 5_000));
  const id = (body as { id?: unknown } | undefined)?.id;
  if (typeof id !== "number") throw new SchemaRegistryRequestError(`POST ${pathname}`, 200, `no numeric id in ${JSON.stringify(body)}`);
  return id;
}

/**
 * Registers one schema under its topic-record subject with FULL compatibility and returns its id. Idempotent: the
 * same text returns the same id. The subject rule is set before the version when the registry allows rules on
 * unknown subjects, else right after the first version (a first version has nothing to be compatible with).
 */
export async function registerEventSchema(endpoint: RegistryEndpoint, fullTopic: string, schema: EventSchema): Promise<RegisteredEventSchema> {
  const subject = subjectOf(fullTopic, schema);
  const before = await setSubjectCompatibility(endpoint, subject);
  const id = await postVersion(endpoint, subject, schema.text);
  if (before.status < 200 || before.status >= 300) expectOk(`PUT /config/${subject}`, await setSubjectCompatibility(endpoint, subject));
  return { eventType: schema.eventType, subject, id };
}

/**
 * Registers every event schema for the configured TOPIC_PREFIX and warms the encoder's cache with each id, so the
 * relay encodes without a registry round trip per record.
 */
export async function registerEventSchemas(
  endpoint: RegistryEndpoint,
  registry: SchemaRegistry,
  config: Pick<AppConfig, "TOPIC_PREFIX">,
  schemas: readonly EventSchema[],
): Promise<Map<EventType, RegisteredEventSchema>> {
  const registered = new Map<EventType, RegisteredEventSchema>();
  for (const schema of schemas) {
    const result = await registerEventSchema(endpoint, topicName(config, schema.topic), schema);
    await registry.getSchema(result.id);
    registered.set(schema.eventType, result);
  }
  return registered;
}

export interface CompatibilityVerdict {
  subject: string;
  file: string;
  /** "new": the registry holds no version yet, so anything is accepted. */
  outcome: "compatible" | "incompatible" | "new";
  messages: string[];
}

function messagesOf(body: unknown): string[] {
  const messages = (body as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(messages)) return [];
  return messages.map((message) => (typeof message === "string" ? message : JSON.stringify(message)));
}

/** The subject's latest schema text, or undefined when the subject has no version yet. */
export async function latestSchemaText(endpoint: RegistryEndpoint, subject: string): Promise<string | undefined> {
  const pathname = `/subjects/${enc(subject)}/versions/latest`;
  const response = await registryRequest(endpoint.url, "GET", pathname, undefined, endpoint.timeoutMs ?? 5_000);
  if (response.status === 404) return undefined;
  const schema = (expectOk(`GET ${pathname}`, response) as { schema?: unknown }).schema;
  if (typeof schema !== "string") throw new SchemaRegistryRequestError(`GET ${pathname}`, response.status, "no schema text in the answer");
  return schema;
}

/** Asks the registry whether `schema` may become the next version of its subject under the subject's rule. */
export async function checkEventSchema(endpoint: RegistryEndpoint, fullTopic: string, schema: EventSchema): Promise<CompatibilityVerdict> {
  const subject = subjectOf(fullTopic, schema);
  const pathname = `/compatibility/subjects/${enc(subject)}/versions/latest?verbose=true`;
  const response = await registryRequest(endpoint.url, "POST", pathname, { schema: schema.text }, endpoint.timeoutMs ?? 5_000);
  const base = { subject, file: schema.file };
  if (response.status === 404) return { ...base, outcome: "new", messages: [] };
  // Confluent answers 409 for an invalid/incompatible schema on some versions; treat it as a refusal with its text.
  if (response.status === 409 || response.status === 422) return { ...base, outcome: "incompatible", messages: [JSON.stringify(response.body)] };
  const body = expectOk(`POST ${pathname}`, response) as { is_compatible?: unknown };
  if (typeof body.is_compatible !== "boolean")
    throw new SchemaRegistryRequestError(`POST ${pathname}`, response.status, `no is_compatible in ${JSON.stringify(body)}`);
  return { ...base, outcome: body.is_compatible ? "compatible" : "incompatible", messages: messagesOf(body) };
}
