import { pollUntil } from "./pipeline.ts";

/** One span as Jaeger's v1 HTTP API returns it, with its service resolved. */
export interface TraceSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  service: string;
  kind: string | undefined;
  tags: Record<string, unknown>;
}

interface JaegerTraceResponse {
  data?: Array<{
    traceID: string;
    spans: Array<{
      traceID: string;
      spanID: string;
      operationName: string;
      processID: string;
      references?: Array<{ refType: string; spanID: string }>;
      tags?: Array<{ key: string; value: unknown }>;
    }>;
    processes: Record<string, { serviceName: string }>;
  }>;
}

export function jaegerQueryUrl(): string {
  return process.env.JAEGER_QUERY_URL || `http://127.0.0.1:${process.env.JAEGER_UI_PORT || "16686"}`;
}

/** GET /api/traces/{id}: every span of the trace (empty while Jaeger has not received any). */
export async function fetchTrace(traceId: string): Promise<TraceSpan[]> {
  const response = await fetch(`${jaegerQueryUrl()}/api/traces/${traceId}`, { signal: AbortSignal.timeout(5_000) });
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`Jaeger answered ${response.status} for trace ${traceId}`);
  const body = (await response.json()) as JaegerTraceResponse;
  return (body.data ?? []).flatMap((trace) =>
    trace.spans.map((span) => {
      const tags = Object.fromEntries((span.tags ?? []).map((tag) => [tag.key, tag.value]));
      return {
        traceId: span.traceID,
        spanId: span.spanID,
        parentSpanId: span.references?.find((ref) => ref.refType === "CHILD_OF")?.spanID ?? null,
        name: span.operationName,
        service: trace.processes[span.processID]?.serviceName ?? "?",
        kind: typeof tags["span.kind"] === "string" ? tags["span.kind"] : undefined,
        tags,
      };
    }),
  );
}

/** Polls Jaeger until `complete` accepts the trace's spans (spans arrive per service as each exporter flushes). */
export async function waitForTrace(traceId: string, complete: (spans: TraceSpan[]) => boolean, timeoutMs: number): Promise<TraceSpan[]> {
  let last: TraceSpan[] = [];
  return pollUntil(
    async () => {
      last = await fetchTrace(traceId);
      return complete(last) ? last : undefined;
    },
    timeoutMs,
    () => `trace ${traceId} to be complete; have ${last.map((s) => `${s.service}:${s.name}`).join(", ") || "no spans"}`,
    500,
  );
}
