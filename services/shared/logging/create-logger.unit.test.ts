import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./create-logger.ts";

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString("utf8"));
      callback();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join("")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe("createLogger", () => {
  it("writes JSON lines with service, level label, ISO time and redacted secrets", () => {
    const out = capture();
    const logger = createLogger({ service: "order-api", destination: out.stream });
    logger.child({ order_id: "o-1" }).info({ req: { headers: { authorization: "Bearer x" } } }, "accepted");
    const [line] = out.lines();
    expect(line).toMatchObject({ service: "order-api", level: "info", order_id: "o-1", msg: "accepted" });
    expect(typeof line?.time).toBe("string");
    expect(JSON.stringify(line)).not.toContain("Bearer x");
  });

  it("logs an error's message and code but not the live objects pg attaches to it", () => {
    const out = capture();
    const logger = createLogger({ service: "runner", destination: out.stream });
    const error = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", client: { huge: "x".repeat(5000) } });
    logger.warn({ err: error }, "idle database connection failed");
    const [line] = out.lines();
    expect(line?.err).toMatchObject({ type: "Error", message: "read ECONNRESET", code: "ECONNRESET" });
    expect(JSON.stringify(line)).not.toContain("xxxxx");
  });
});
