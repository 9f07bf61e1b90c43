import { describe, expect, it } from "vitest";
import { toTraceView } from "./jaeger-query.ts";

const T0 = 1_764_000_000_000_000; // microseconds, as Jaeger reports them
const span = (
  id: string,
  parent: string | null,
  process: string,
  name: string,
  startMs: number,
  durationMs: number,
  tags: Array<{ key: string; value: unknown }> = [],
) => ({
  traceID: "t1",
  spanID: id,
  operationName: name,
  processID: process,
  startTime: T0 + startMs * 1000,
  duration: durationMs * 1000,
  references: parent === null ? [] : [{ refType: "CHILD_OF", spanID: parent }],
  tags,
});

describe("toTraceView", () => {
  const trace = {
    traceID: "t1",
    processes: { p1: { serviceName: "order-api" }, p2: { serviceName: "outbox-relay" }, p3: { serviceName: "inventory" } },
    spans: [
      span("c", "b", "p3", "process orders", 30, 5, [
        { key: "otel.status_code", value: "ERROR" },
        { key: "otel.status_description", value: "stock table locked" },
      ]),
      span("a", null, "p1", "POST /orders", 0, 12, [{ key: "span.kind", value: "server" }]),
      span("b", "a", "p2", "publish orders", 20, 4),
      span("x", "gone", "p3", "process orders", 40, 1),
    ],
  };

  it("orders spans depth-first under their parents, with offsets, durations and hop gaps between services", () => {
    const view = toTraceView(trace);
    expect(view.spans.map((s) => [s.spanId, s.depth, s.startOffsetMs, s.durationMs])).toEqual([
      ["a", 0, 0, 12],
      ["b", 1, 20, 4],
      ["c", 2, 30, 5],
      ["x", 0, 40, 1],
    ]);
    expect(view.spans[1]!.hop).toEqual({ fromService: "order-api", gapMs: 8 });
    expect(view.spans[2]!.hop).toEqual({ fromService: "outbox-relay", gapMs: 6 });
    expect(view.spans[0]!.kind).toBe("server");
    expect(view).toMatchObject({ durationMs: 41, spanCount: 4, errorCount: 1, services: ["inventory", "order-api", "outbox-relay"] });
  });

  it("marks errors with their message and a span whose parent has not arrived", () => {
    const view = toTraceView(trace);
    expect(view.spans.find((s) => s.spanId === "c")).toMatchObject({ error: true, errorMessage: "stock table locked" });
    expect(view.spans.find((s) => s.spanId === "x")).toMatchObject({ parentMissing: true, depth: 0 });
  });
});
