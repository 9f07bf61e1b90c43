import { describe, expect, expectTypeOf, it } from "vitest";
import type { AppConfig } from "./config-schema.ts";
import { ConfigError, loadConfig, topicName } from "./load-config.ts";

describe("loadConfig", () => {
  it("gives working local defaults on 127.0.0.1", () => {
    const config = loadConfig({});
    expect(config.KAFKA_BROKERS).toBe("127.0.0.1:9092");
    expect(config.DATABASE_URL).toContain("@127.0.0.1:5432/");
    expect(config.API_PORT).toBe(3000);
  });

  it("coerces numbers and treats empty strings as unset", () => {
    const config = loadConfig({ API_PORT: "8080", TOPIC_PARTITIONS: "" });
    expect(config.API_PORT).toBe(8080);
    expect(config.TOPIC_PARTITIONS).toBe(6);
  });

  it("names every invalid variable", () => {
    let error: unknown;
    try {
      loadConfig({ API_PORT: "70000", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    expect(problems).toMatch(/API_PORT/);
    expect(problems).toMatch(/DATABASE_URL/);
    expect(problems).toMatch(/LOG_LEVEL/);
  });

  it("leaves the replication factor to the brokers unless one is given, and refuses 0", () => {
    expect(loadConfig({}).TOPIC_REPLICATION_FACTOR).toBe(-1);
    expect(loadConfig({ TOPIC_REPLICATION_FACTOR: "3" }).TOPIC_REPLICATION_FACTOR).toBe(3);
    expect(() => loadConfig({ TOPIC_REPLICATION_FACTOR: "0" })).toThrow(/TOPIC_REPLICATION_FACTOR/);
    expect(() => loadConfig({ TOPIC_REPLICATION_FACTOR: "-2" })).toThrow(/TOPIC_REPLICATION_FACTOR/);
  });

  it("prefixes topic names", () => {
    expect(topicName({ TOPIC_PREFIX: "test.run1." }, "orders")).toBe("test.run1.orders");
  });

  it("types each variable from its schema (checked by the typecheck): enums as their members, integers as numbers", () => {
    const config = loadConfig({});
    expectTypeOf(config).toEqualTypeOf<AppConfig>();
    expectTypeOf(config.RELAY_WAKEUP).toEqualTypeOf<"poll" | "notify">();
    expectTypeOf(config.API_PORT).toEqualTypeOf<number>();
    expectTypeOf(config.TRACE_DB_STATEMENTS).toEqualTypeOf<boolean>();
    expectTypeOf(config.KAFKA_BROKERS).toEqualTypeOf<string>();
    expectTypeOf<AppConfig>().not.toHaveProperty("NOT_A_VARIABLE");
    expect(typeof config.TRACE_DB_STATEMENTS).toBe("boolean");
    expect(config.RELAY_WAKEUP).toBe("poll");
  });
});
