import { Parser } from "@asyncapi/parser";
import { describe, expect, it } from "vitest";
import { DLQ_HEADERS } from "../consumer/dead-letter.ts";
import { AVRO_SCHEMA_FORMAT, buildAsyncApiDocument, type AsyncApiDocument } from "./asyncapi.ts";
import { loadEventSchemas } from "./event-schemas.ts";
import { DLQ_TOPICS, EVENT_TOPICS, EVENT_TOPIC_NAMES } from "./topic-catalogue.ts";

/** The parser runs Spectral rules over the whole document: seconds on a busy 2-core machine. */
const PARSER_TIMEOUT_MS = 60_000;
const config = { TOPIC_PREFIX: "", KAFKA_BROKERS: "127.0.0.1:9092,127.0.0.1:9093" };

/** Errors only (severity 0): the parser also reports hints such as "a newer AsyncAPI version exists". */
async function parserErrors(document: AsyncApiDocument): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(JSON.stringify(document));
  return diagnostics.filter((diagnostic) => diagnostic.severity === 0).map((diagnostic) => `${diagnostic.path.join("/")}: ${diagnostic.message}`);
}

type Tree = Record<string, Record<string, unknown>>;
const section = (document: AsyncApiDocument, name: string): Tree => document[name] as unknown as Tree;

describe("the AsyncAPI document", () => {
  const document = buildAsyncApiDocument({ config });

  it(
    "passes the official AsyncAPI parser with zero errors",
    async () => {
      expect(await parserErrors(document)).toEqual([]);
    },
    PARSER_TIMEOUT_MS,
  );

  it("has a channel per event topic and per dead-letter topic, at the real (prefixed) address", () => {
    const prefixed = buildAsyncApiDocument({ config: { ...config, TOPIC_PREFIX: "t1." } });
    const addresses = Object.values(section(prefixed, "channels")).map((channel) => channel.address);
    expect(addresses.sort()).toEqual([...EVENT_TOPIC_NAMES, ...DLQ_TOPICS].map((topic) => `t1.${topic}`).sort());
  });

  it("puts every event type on its catalogue topic, with its Avro schema file as the payload", () => {
    const channels = section(document, "channels");
    const messages = section(section(document, "components") as unknown as AsyncApiDocument, "messages");
    for (const schema of loadEventSchemas()) {
      expect(Object.keys(channels[EVENT_TOPICS[schema.eventType]]!.messages as object)).toContain(schema.eventType);
      expect(messages[schema.eventType]!.payload).toEqual({ schemaFormat: AVRO_SCHEMA_FORMAT, schema: JSON.parse(schema.text) });
    }
  });

  it("names the order id as key and the event-type and traceparent headers; dead letters add the dlq-* headers", () => {
    const messages = section(section(document, "components") as unknown as AsyncApiDocument, "messages");
    const placed = messages.OrderPlaced as { bindings: { kafka: { key: { format: string } } }; headers: { properties: object } };
    expect(placed.bindings.kafka.key.format).toBe("uuid");
    expect(Object.keys(placed.headers.properties)).toEqual(expect.arrayContaining(["event-type", "event-id", "traceparent"]));
    const letter = messages.OrderPlacedDeadLetter as { headers: { properties: object } };
    expect(Object.keys(letter.headers.properties)).toEqual(expect.arrayContaining(Object.values(DLQ_HEADERS)));
  });

  it(
    "is rejected by the parser when a payload is not valid Avro (the check can fail)",
    async () => {
      const broken = structuredClone(document);
      const messages = section(section(broken, "components") as unknown as AsyncApiDocument, "messages");
      (messages.OrderPlaced!.payload as { schema: { type: string } }).schema.type = "recordd";
      expect((await parserErrors(broken)).length).toBeGreaterThan(0);
    },
    PARSER_TIMEOUT_MS,
  );
});
