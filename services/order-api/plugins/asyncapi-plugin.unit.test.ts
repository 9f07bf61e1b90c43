import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { asyncApiPlugin } from "./asyncapi-plugin.ts";

describe("GET /asyncapi.json", () => {
  it("serves the generated AsyncAPI 3.0 document as JSON", async () => {
    const app = Fastify();
    await app.register(asyncApiPlugin, { config: { TOPIC_PREFIX: "", KAFKA_BROKERS: "127.0.0.1:9092" } });
    const response = await app.inject({ method: "GET", url: "/asyncapi.json" });
    await app.close();
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    const body = response.json<{ asyncapi: string; channels: Record<string, { address: string }> }>();
    expect(body.asyncapi).toBe("3.0.0");
    expect(Object.values(body.channels).map((channel) => channel.address)).toContain("orders");
  });
});
