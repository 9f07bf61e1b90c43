import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { startTelemetry } from "../../services/shared/telemetry/start-telemetry.ts";

const JAEGER_QUERY_URL = process.env.JAEGER_QUERY_URL || "http://127.0.0.1:16686";
const POLL_TIMEOUT_MS = 15_000;

/** The subset of Jaeger's v1 query API JSON (GET /api/traces) this test reads. */
interface JaegerTraces {
  data: {
    traceID: string;
    spans: { operationName: string; processID: string; tags: { key: string; type: string; value: unknown }[] }[];
    processes: Record<string, { serviceName: string }>;
  }[];
}

async function findTraces(service: string): Promise<JaegerTraces["data"]> {
  const url = `${JAEGER_QUERY_URL}/api/traces?service=${encodeURIComponent(service)}&lookback=1h&limit=20`;
  const deadline = Date.now() + POLL_TIMEOUT_MS;
  for (;;) {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    // Jaeger answers 200 with data [] (or 404 for a service it has never seen) until the spans are stored.
    if (response.ok) {
      const body = (await response.json()) as JaegerTraces;
      if (body.data?.length) return body.data;
    }
    if (Date.now() > deadline) throw new Error(`no trace for service ${service} in Jaeger at ${url} after ${POLL_TIMEOUT_MS / 1000}s`);
    await sleep(250);
  }
}

describe("Jaeger receives the services' traces", () => {
  it("stores a span exported by startTelemetry and serves it by service name", async () => {
    const serviceName = `jaeger-int-${randomUUID().slice(0, 8)}`;
    const marker = randomUUID();
    const telemetry = startTelemetry({ serviceName, serviceVersion: "0.0.0-test" });
    let traceId = "";
    try {
      trace.getTracer("jaeger.int.test").startActiveSpan("jaeger-probe", (span) => {
        span.setAttribute("test.marker", marker);
        traceId = span.spanContext().traceId;
        span.end();
      });
    } finally {
      await telemetry.shutdown(); // flushes the batch processor
    }

    const traces = await findTraces(serviceName);
    expect(traces.map((t) => t.traceID)).toEqual([traceId]);
    const [span] = traces[0]?.spans ?? [];
    expect(span?.operationName).toBe("jaeger-probe");
    expect(traces[0]?.processes[span?.processID ?? ""]?.serviceName).toBe(serviceName);
    expect(span?.tags).toContainEqual({ key: "test.marker", type: "string", value: marker });
  });
});
