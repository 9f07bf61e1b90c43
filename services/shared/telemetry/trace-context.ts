import { context, defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

/** The W3C headers that carry a trace across the outbox and Kafka (stored on outbox rows, sent as headers). */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

/**
 * Always W3C, whatever propagator the SDK has registered globally: outbox rows outlive the process that wrote
 * them and must be readable by every relay and consumer.
 */
const propagator = new W3CTraceContextPropagator();

/** The active span's context as W3C headers, or undefined when nothing is being traced. */
export function currentTraceparent(active: Context = context.active()): TraceHeaders | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(active, carrier, defaultTextMapSetter);
  const { traceparent, tracestate } = carrier;
  if (!traceparent) return undefined;
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** Header values as stored (outbox JSON) or received (Kafka headers arrive as Buffers, possibly repeated). */
export type TraceHeaderValue = string | Buffer | readonly (string | Buffer)[] | null | undefined;

function headerText(value: TraceHeaderValue): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === null || first === undefined) return undefined;
  return typeof first === "string" ? first : first.toString("utf8");
}

/**
 * A context whose remote parent is the given traceparent, to start the next hop's span under it.
 * Missing or malformed headers give `base` unchanged: a broken header must never fail the message.
 */
export function contextFromTraceparent(headers: Readonly<Record<string, TraceHeaderValue>>, base: Context = ROOT_CONTEXT): Context {
  const carrier: Record<string, string> = {};
  for (const name of ["traceparent", "tracestate"]) {
    const text = headerText(headers[name]);
    if (text !== undefined) carrier[name] = text;
  }
  return propagator.extract(base, carrier, defaultTextMapGetter);
}
