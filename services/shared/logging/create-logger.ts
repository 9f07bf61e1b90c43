import { trace } from "@opentelemetry/api";
import { pino, stdSerializers, type DestinationStream, type Logger, type LevelWithSilent } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  /** Appears as `service` on every line, so one stream can hold every service's logs. */
  service: string;
  level?: LevelWithSilent;
  /** Defaults to stdout; tests pass a stream to capture lines. */
  destination?: DestinationStream;
}

/**
 * trace_id/span_id of the active span on every line, so a log line leads to its trace in Jaeger (and back).
 * Cheap when telemetry is off: getActiveSpan() is then undefined.
 */
function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!trace.isSpanContextValid(span.spanContext())) return {};
  return { trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}`.slice(-2) };
}

/**
 * pino's error serializer copies every enumerable property; pg attaches its whole `client` (connection state,
 * type tables) to socket errors, which turned one warning into kilobytes. Keep the error, drop live objects.
 */
function serializeError(error: unknown): unknown {
  const serialized = stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (serialized && typeof serialized === "object") {
    delete serialized.client;
    delete serialized.connection;
  }
  return serialized;
}

/** JSON lines (pino) with ISO timestamps, the service name and the current trace; secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: options.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
      serializers: { err: serializeError },
      redact: {
        paths: ["req.headers.authorization", "req.headers.cookie", "*.password", "*.DATABASE_URL", "databaseUrl"],
        censor: "[redacted]",
      },
    },
    options.destination,
  );
}
