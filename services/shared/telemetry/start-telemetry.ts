import { randomBytes } from "node:crypto";
import { register } from "node:module";
import os from "node:os";
import { context, propagation, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { FastifyOtelInstrumentation } from "@fastify/otel";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import type { Instrumentation } from "@opentelemetry/instrumentation";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  env?: NodeJS.ProcessEnv;
}

export interface Telemetry {
  /**
   * Flushes buffered spans (bounded by the exporter timeout) and stops the SDK. Safe to call twice.
   * Rejects with TelemetryShutdownError when the flush failed; everything is unregistered either way.
   */
  shutdown(): Promise<void>;
}

const DEFAULT_ENDPOINT = "http://127.0.0.1:4317";
const EXPORT_TIMEOUT_MS = 10_000;
/** Short, so a trace shows up in Jaeger about as soon as the work is done. */
const SCHEDULE_DELAY_MS = 500;
/** Probes, scrapes and the live page's polling run every few seconds; as traces they would drown the orders. */
const UNTRACED_PATHS = new Set([
  "/livez",
  "/readyz",
  "/metrics",
  "/",
  "/monitor/lag",
  "/monitor/recent-orders",
  "/live-page/live-page.js",
  "/live-page/live-page.css",
]);

/** The operator pages' own reads (they poll while an order moves): tracing them would add traces to the trace view. */
const UNTRACED_PATTERN = /^\/(console\/|orders\/[^/]+\/(timeline|trace)$)/;
const isUntraced = (path: string): boolean => UNTRACED_PATHS.has(path) || UNTRACED_PATTERN.test(path);

let esmHookRegistered = false;

/**
 * Our code is ESM: require-hooks alone never see `import pg from "pg"`, so the import-in-the-middle loader
 * must be registered before the application modules are imported (the entry point imports them afterwards).
 */
function registerEsmHook(): void {
  if (esmHookRegistered) return;
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
  esmHookRegistered = true;
}

function instanceId(): string {
  return `${os.hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

function instrumentations(env: NodeJS.ProcessEnv): Instrumentation[] {
  const hooks: Instrumentation[] = [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => isUntraced((request.url ?? "").split("?")[0] ?? ""),
    }),
    // Fastify's own spans (request, hooks, handler) with http.route, and the server span gets "POST /orders".
    new FastifyOtelInstrumentation({
      registerOnInitialization: true,
      // Request and handler spans only: a span per lifecycle hook would be most of the trace and say little.
      instrumentHooks: false,
      ignorePaths: (route: { url: string }) =>
        isUntraced(route.url) ||
        route.url.startsWith("/monitor") ||
        route.url.startsWith("/live") ||
        route.url.startsWith("/console") ||
        /^\/orders\/:id\/(timeline|trace)$/.test(route.url),
    }) as unknown as Instrumentation,
    // No KafkaJsInstrumentation: its producer patch starts a "send" span under the *active* context and overwrites
    // the traceparent header with it, so every relayed event would start a new trace (the relay sends rows of many
    // orders in one batch, none of them active). The relay's publish span and the consumer runner's process span
    // carry the messaging semantic conventions themselves, parented on the outbox row / Kafka header.
  ];
  // A span per SQL statement is most of an order's spans (and of the CPU tracing costs) while the messaging and
  // HTTP spans already show every hop; TRACE_DB_STATEMENTS=true adds them back when a query needs looking at.
  // Without a parent, pg spans would be the relay's and consumers' idle polling: noise, not orders.
  if ((env.TRACE_DB_STATEMENTS ?? "").trim().toLowerCase() === "true") hooks.push(new PgInstrumentation({ requireParentSpan: true }));
  return hooks;
}

/** The last spans could not be exported (collector down or too slow); the process can still exit. */
export class TelemetryShutdownError extends Error {
  constructor(
    readonly endpoint: string,
    cause: unknown,
  ) {
    super(`could not flush spans to ${endpoint}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "TelemetryShutdownError";
  }
}

/** Flushes, then unregisters everything, so a later startTelemetry in the same process (tests) starts clean. */
async function stop(sdk: NodeSDK, hooks: Instrumentation[], endpoint: string): Promise<void> {
  try {
    await sdk.shutdown();
  } catch (error) {
    throw new TelemetryShutdownError(endpoint, error);
  } finally {
    for (const hook of hooks) hook.disable();
    trace.disable();
    propagation.disable();
    context.disable();
  }
}

/** Starts OpenTelemetry for one service process. Call it first, then import the application modules. */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const env = options.env ?? process.env;
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return { shutdown: async () => {} };
  registerEsmHook();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || DEFAULT_ENDPOINT;
  const exporter = new OTLPTraceExporter({ url: endpoint, timeoutMillis: EXPORT_TIMEOUT_MS });
  const hooks = instrumentations(env);
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.serviceName,
        [ATTR_SERVICE_VERSION]: options.serviceVersion ?? env.npm_package_version ?? "0.0.0",
        [ATTR_SERVICE_INSTANCE_ID]: instanceId(),
      }),
    ),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: SCHEDULE_DELAY_MS, exportTimeoutMillis: EXPORT_TIMEOUT_MS })],
    instrumentations: hooks,
    // Traces only: Jaeger has no logs or metrics pipeline, and the SDK would otherwise default both to OTLP.
    logRecordProcessors: [],
    metricReaders: [],
  });
  sdk.start();
  let stopping: Promise<void> | undefined;
  return { shutdown: () => (stopping ??= stop(sdk, hooks, endpoint)) };
}
