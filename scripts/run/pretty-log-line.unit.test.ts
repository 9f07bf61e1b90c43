import { describe, expect, it } from "vitest";
import { prettyLogLine } from "./pretty-log-line.ts";

const pinoLine = (fields: Record<string, unknown>): string =>
  JSON.stringify({ level: "info", time: "2026-12-02T08:30:01.234Z", pid: 42, service: "payment", msg: "payment authorized", ...fields });

describe("prettyLogLine", () => {
  it("shows time, level, instance, message and the key fields of a pino line", () => {
    const line = prettyLogLine("payment#1", pinoLine({ order_id: "o-1", trace_id: "abc", span_id: "def", trace_flags: "01" }));
    expect(line).toBe("08:30:01.234 INFO  [payment#1] payment authorized order_id=o-1 trace_id=abc");
  });

  it("maps pino's numeric levels and colours the level only when asked", () => {
    expect(prettyLogLine("relay#1", pinoLine({ level: 50 }))).toContain(" ERROR [relay#1] ");
    const coloured = prettyLogLine("relay#1", pinoLine({ level: "warn" }), { colour: true });
    expect(coloured).toContain("\x1b[33mWARN \x1b[0m");
  });

  it("quotes values with spaces, writes objects as JSON and shortens long values", () => {
    const line = prettyLogLine("x#1", pinoLine({ reason: "out of stock", counts: { a: 1 }, blob: "y".repeat(500) }));
    expect(line).toContain('reason="out of stock"');
    expect(line).toContain('counts={"a":1}');
    expect(line).toMatch(/blob=y{120}… ?/);
  });

  it("puts an error's stack on indented lines below the message", () => {
    const line = prettyLogLine("x#1", pinoLine({ level: "error", err: { type: "Error", message: "boom", stack: "Error: boom\n    at f (a.ts:1)" } }));
    expect(line.split("\n")).toEqual(["08:30:01.234 ERROR [x#1] payment authorized", "    Error: boom", "        at f (a.ts:1)"]);
  });

  it("passes lines that are not pino JSON through with the instance prefix", () => {
    expect(prettyLogLine("x#1", "Segmentation fault")).toBe("[x#1] Segmentation fault");
    expect(prettyLogLine("x#1", "{not json")).toBe("[x#1] {not json");
    expect(prettyLogLine("x#1", '{"a":1}')).toBe('[x#1] {"a":1}');
  });
});
