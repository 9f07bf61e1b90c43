/**
 * Reads an order's trace from Jaeger's query API (JAEGER_QUERY_URL, the v1 HTTP API every Jaeger serves, with or
 * without its UI) and turns it into the waterfall the trace page draws: spans depth-first under their parents, with
 * start offsets and durations in milliseconds, attributes, events and errors, and the latency of each hop from one
 * service to the next.
 */
import { CodedError } from "../../shared/errors/coded-error.ts";

const QUERY_TIMEOUT_MS = 5_000;

/** Jaeger did not answer, or answered something other than a trace. */
export class TraceQueryError extends CodedError {
  constructor(detail: string, cause?: unknown) {
    super({ code: "TRACE_QUERY_FAILED", status: 502, title: "Jaeger's query API did not answer", canRetry: true }, { detail, cause });
    this.name = "TraceQueryError";
  }
}

interface JaegerTag {
  key: string;
  value: unknown;
}

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  startTime: number;
  duration: number;
  references?: Array<{ refType: string; spanID: string }>;
  tags?: JaegerTag[];
  logs?: Array<{ timestamp: number; fields?: JaegerTag[] }>;
}

interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

export interface SpanEvent {
  offsetMs: number;
  attributes: Record<string, unknown>;
}

export interface ViewSpan {
  spanId: string;
  parentSpanId: string | null;
  /** 0 for a root; a span whose parent has not reached Jaeger (yet) is drawn as a root with parentMissing. */
  depth: number;
  parentMissing: boolean;
  service: string;
  name: string;
  kind: string | null;
  startTime: string;
  /** From the start of the trace's first span. */
  startOffsetMs: number;
  durationMs: number;
  attributes: Record<string, unknown>;
  events: SpanEvent[];
  error: boolean;
  errorMessage: string | null;
  /** Set where the parent ran in another service: this span's start minus the parent's end (negative: overlap). */
  hop: { fromService: string; gapMs: number } | null;
}

export interface TraceView {
  traceId: string;
  startTime: string;
  durationMs: number;
  services: string[];
  spanCount: number;
  errorCount: number;
  spans: ViewSpan[];
}

const ms = (micros: number): number => Math.round(micros) / 1000;

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(QUERY_TIMEOUT_MS), headers: { accept: "application/json" } });
  } catch (error) {
    throw new TraceQueryError(`GET ${url} failed: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch (error) {
    throw new TraceQueryError(`GET ${url} answered ${response.status} with no JSON (is JAEGER_QUERY_URL Jaeger's query API?)`, error);
  }
}

function tagMap(tags: readonly JaegerTag[] | undefined): Record<string, unknown> {
  return Object.fromEntries((tags ?? []).map((tag) => [tag.key, tag.value]));
}

function errorOf(attributes: Record<string, unknown>, events: readonly SpanEvent[]): string | null {
  const failed = attributes.error === true || attributes["otel.status_code"] === "ERROR";
  if (!failed) return null;
  const described = attributes["otel.status_description"] ?? events.find((event) => event.attributes.event === "exception")?.attributes["exception.message"];
  return typeof described === "string" ? described : "error";
}

/** Depth-first, children in start order: the order a waterfall reads top to bottom. */
function orderSpans(spans: ViewSpan[]): ViewSpan[] {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string | null, ViewSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanId !== null && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    span.parentMissing = span.parentSpanId !== null && parent === null;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  for (const list of children.values()) list.sort((a, b) => a.startOffsetMs - b.startOffsetMs || a.name.localeCompare(b.name));
  const ordered: ViewSpan[] = [];
  const visit = (parent: string | null, depth: number): void => {
    for (const span of children.get(parent) ?? []) {
      span.depth = depth;
      ordered.push(span);
      visit(span.spanId, depth + 1);
    }
  };
  visit(null, 0);
  return ordered;
}

/** The waterfall of one trace as Jaeger's /api/traces/{id} returned it. */
export function toTraceView(trace: JaegerTrace): TraceView {
  const first = Math.min(...trace.spans.map((span) => span.startTime));
  const last = Math.max(...trace.spans.map((span) => span.startTime + span.duration));
  const raw = new Map(trace.spans.map((span) => [span.spanID, span]));
  const service = (span: JaegerSpan): string => trace.processes[span.processID]?.serviceName ?? "unknown";
  const spans = trace.spans.map((span): ViewSpan => {
    const attributes = tagMap(span.tags);
    const events = (span.logs ?? []).map((log) => ({ offsetMs: ms(log.timestamp - span.startTime), attributes: tagMap(log.fields) }));
    const errorMessage = errorOf(attributes, events);
    const parentSpanId = span.references?.find((ref) => ref.refType === "CHILD_OF")?.spanID ?? null;
    const parent = parentSpanId === null ? undefined : raw.get(parentSpanId);
    const crossesService = parent !== undefined && service(parent) !== service(span);
    return {
      spanId: span.spanID,
      parentSpanId,
      depth: 0,
      parentMissing: false,
      service: service(span),
      name: span.operationName,
      kind: typeof attributes["span.kind"] === "string" ? attributes["span.kind"] : null,
      startTime: new Date(span.startTime / 1000).toISOString(),
      startOffsetMs: ms(span.startTime - first),
      durationMs: ms(span.duration),
      attributes,
      events,
      error: errorMessage !== null,
      errorMessage,
      hop: crossesService ? { fromService: service(parent), gapMs: ms(span.startTime - (parent.startTime + parent.duration)) } : null,
    };
  });
  return {
    traceId: trace.traceID,
    startTime: new Date(first / 1000).toISOString(),
    durationMs: ms(last - first),
    services: [...new Set(spans.map((span) => span.service))].sort(),
    spanCount: spans.length,
    errorCount: spans.filter((span) => span.error).length,
    spans: orderSpans(spans),
  };
}

function firstTrace(body: unknown): JaegerTrace | undefined {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return undefined;
  const trace = data.find((entry: JaegerTrace | null) => Array.isArray(entry?.spans) && entry.spans.length > 0) as JaegerTrace | undefined;
  return trace;
}

export interface TraceSource {
  /** The trace, or undefined when Jaeger has none (not received yet, or dropped from its in-memory store). */
  byTraceId(traceId: string): Promise<TraceView | undefined>;
  /** The trace whose order-api span carries order.id = orderId, searched from `since` on. */
  findByOrderId(orderId: string, since: Date): Promise<string | undefined>;
}

export function jaegerTraceSource(queryUrl: string): TraceSource {
  const base = queryUrl.replace(/\/+$/, "");
  return {
    async byTraceId(traceId) {
      const { status, body } = await getJson(`${base}/api/traces/${encodeURIComponent(traceId)}`);
      if (status === 404) return undefined;
      if (status !== 200) throw new TraceQueryError(`Jaeger answered ${status} for trace ${traceId}`);
      const trace = firstTrace(body);
      return trace === undefined ? undefined : toTraceView(trace);
    },
    async findByOrderId(orderId, since) {
      const query = new URLSearchParams({
        service: "order-api",
        tags: JSON.stringify({ "order.id": orderId }),
        start: String((since.getTime() - 60_000) * 1000),
        end: String((Date.now() + 60_000) * 1000),
        limit: "1",
      });
      const { status, body } = await getJson(`${base}/api/traces?${query.toString()}`);
      if (status !== 200) return undefined;
      return firstTrace(body)?.traceID;
    },
  };
}
