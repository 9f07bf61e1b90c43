import { context as otelContext, SpanKind, SpanStatusCode, trace, type Context, type Span } from "@opentelemetry/api";
import { contextFromTraceparent } from "../telemetry/trace-context.ts";
import type { RawRecord } from "./message-decoder.ts";

const tracer = trace.getTracer("orderflow-consumer");

export interface ProcessSpan {
  span: Span;
  /** Context with the span active: handlers and ctx.emit run under it. */
  context: Context;
}

/**
 * A CONSUMER span "process <topic>" per message, child of the producer's traceparent from the Kafka headers
 * (OpenTelemetry messaging conventions; both the current and the older attribute names, as Jaeger users search
 * by either).
 */
export function startProcessSpan(record: RawRecord, group: string): ProcessSpan {
  const parent = contextFromTraceparent(record.headers);
  const key = record.key?.toString("utf8");
  const span = tracer.startSpan(
    `process ${record.topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "kafka",
        "messaging.operation": "process",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": record.topic,
        "messaging.destination.partition.id": String(record.partition),
        "messaging.kafka.partition": record.partition,
        "messaging.kafka.offset": Number(record.offset),
        "messaging.kafka.message.offset": Number(record.offset),
        "messaging.kafka.consumer.group": group,
        "messaging.consumer.group.name": group,
        ...(key === undefined ? {} : { "messaging.kafka.message.key": key }),
      },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

export function endProcessSpan(span: Span, outcome: string, error?: unknown): void {
  span.setAttribute("orderflow.consumer.outcome", outcome);
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : new Error(String(error)));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** Runs `work` with the span's context active (so pg spans and log lines belong to it). */
export function withSpanContext<T>(ctx: Context, work: () => Promise<T>): Promise<T> {
  return otelContext.with(ctx, work);
}
