import { context, ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { contextFromTraceparent, currentTraceparent } from "./trace-context.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe("currentTraceparent", () => {
  it("is undefined when no span is active", () => {
    expect(currentTraceparent(ROOT_CONTEXT)).toBeUndefined();
    expect(currentTraceparent()).toBeUndefined();
  });

  it("gives the W3C traceparent of the span in the context", () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
    expect(currentTraceparent(ctx)).toEqual({ traceparent: TRACEPARENT });
  });

  it("keeps tracestate when there is one", () => {
    expect(currentTraceparent(contextFromTraceparent({ traceparent: TRACEPARENT, tracestate: "vendor=abc,other=1" }))).toEqual({
      traceparent: TRACEPARENT,
      tracestate: "vendor=abc,other=1",
    });
  });

  it("ignores an invalid span context", () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: "0".repeat(32), spanId: "0".repeat(16), traceFlags: TraceFlags.NONE });
    expect(currentTraceparent(ctx)).toBeUndefined();
  });
});

describe("contextFromTraceparent", () => {
  it("restores the remote parent from stored headers", () => {
    const span = trace.getSpanContext(contextFromTraceparent({ traceparent: TRACEPARENT }));
    expect(span).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  });

  it("reads Kafka header values (Buffers, repeated headers)", () => {
    const ctx = contextFromTraceparent({ traceparent: [Buffer.from(TRACEPARENT)], tracestate: Buffer.from("vendor=abc") });
    expect(trace.getSpanContext(ctx)?.traceId).toBe(TRACE_ID);
    expect(trace.getSpanContext(ctx)?.traceState?.get("vendor")).toBe("abc");
  });

  it("round-trips through currentTraceparent", () => {
    const stored = { traceparent: TRACEPARENT, tracestate: "vendor=abc" };
    expect(currentTraceparent(contextFromTraceparent(stored))).toEqual(stored);
  });

  it.each([
    ["missing", {}],
    ["null", { traceparent: null }],
    ["malformed", { traceparent: "not-a-traceparent" }],
    ["all-zero trace id", { traceparent: `00-${"0".repeat(32)}-${SPAN_ID}-01` }],
  ])("leaves the base context unchanged when the header is %s", (_name, headers) => {
    const base = context.active();
    expect(contextFromTraceparent(headers, base)).toBe(base);
    expect(trace.getSpanContext(contextFromTraceparent(headers))).toBeUndefined();
  });
});
