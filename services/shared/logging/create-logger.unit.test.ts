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
  return { stream, lines: () => chunks.join("").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>) };
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
});
