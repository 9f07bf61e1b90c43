/**
 * The operator's view of one order: GET /orders/{id}/timeline (the flight recorder, JSON), GET /orders/{id}/trace
 * (its trace as a waterfall, JSON, read from Jaeger's query API) and the two pages that draw them
 * (/console/flight-recorder.html, /console/trace.html; plain HTML + JS, no build step). Behind MONITOR_TOKEN like
 * /monitor/*: they show every hop of an order, which is operations data.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { AppConfig } from "../../shared/config/config-schema.ts";
import { topicName } from "../../shared/config/load-config.ts";
import { executorOf, type SqlExecutor } from "../../shared/db/sql.ts";
import { NotFoundError } from "../../shared/errors/http-errors.ts";
import { withTimeout } from "../../shared/resilience/with-timeout.ts";
import { buildTimeline, type OrderTimeline } from "../flight-recorder/build-timeline.ts";
import { CONSUMER_GROUP_NAMES } from "../flight-recorder/event-consumers.ts";
import { readOrderRecords, readOrderTraceparent } from "../flight-recorder/timeline-sql.ts";
import { orderTimelineSchema, orderTraceSchema } from "../flight-recorder/timeline-schema.ts";
import { filesUnder, serveStaticFiles } from "../http/static-files.ts";
import { requireBearer } from "../http/bearer-auth.ts";
import type { MonitorService } from "../monitor/monitor-service.ts";
import { traceIdOf } from "../monitor/recent-orders.ts";
import { problemResponses } from "../../shared/errors/problem-schema.ts";
import { orderIdParamsSchema } from "../routes/order-schemas.ts";
import { jaegerTraceSource, type TraceSource, type TraceView } from "../trace-view/jaeger-query.ts";

export interface FlightRecorderOptions {
  config: Pick<AppConfig, "MONITOR_TOKEN" | "JAEGER_QUERY_URL" | "JAEGER_UI_URL" | "TOPIC_PREFIX">;
  pool: pg.Pool;
  /** The consumer groups' committed offsets come from the monitor's (cached) lag report. */
  monitor: Pick<MonitorService, "lagReport">;
  /** Jaeger's query API by default. */
  traces?: TraceSource;
}

const LAG_TIMEOUT_MS = 4_000;
const pageDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "console");
const pages = filesUnder(pageDir, "/console/", ["trace.html", "flight-recorder.html", "trace.js", "flight-recorder.js", "console-common.js", "console.css"]);

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The order's trace id: stored with its OrderPlaced row, else found in Jaeger by the order.id attribute. */
async function resolveTraceId(db: SqlExecutor, traces: TraceSource, orderId: string): Promise<{ traceId: string | null; createdAt: Date }> {
  const stored = await readOrderTraceparent(db, orderId);
  if (stored === undefined) throw new NotFoundError({ detail: `Order ${orderId} not found` });
  const traceId = traceIdOf(stored.traceparent) ?? (await traces.findByOrderId(orderId, stored.createdAt).catch(() => undefined)) ?? null;
  return { traceId, createdAt: stored.createdAt };
}

async function readTrace(traces: TraceSource, traceId: string | null): Promise<{ trace: TraceView | undefined; error: string | null }> {
  if (traceId === null) return { trace: undefined, error: null };
  try {
    return { trace: await traces.byTraceId(traceId), error: null };
  } catch (error) {
    return { trace: undefined, error: message(error) };
  }
}

/** The trace in the configured full Jaeger UI, if any. */
function jaegerUiLink(options: FlightRecorderOptions, traceId: string | null): string | null {
  const base = options.config.JAEGER_UI_URL.replace(/\/+$/, "");
  return base !== "" && traceId !== null ? `${base}/trace/${traceId}` : null;
}

async function timelineOf(options: FlightRecorderOptions, db: SqlExecutor, traces: TraceSource, orderId: string): Promise<OrderTimeline> {
  const records = await readOrderRecords(db, orderId, CONSUMER_GROUP_NAMES);
  if (records === undefined) throw new NotFoundError({ detail: `Order ${orderId} not found` });
  const errors: OrderTimeline["errors"] = [];
  const { traceId } = await resolveTraceId(db, traces, orderId);
  const { trace, error } = await readTrace(traces, traceId);
  if (error !== null) errors.push({ source: "jaeger", message: error });
  // Group positions only explain a pending order; a terminal one does not need a Kafka round trip.
  let groups;
  if (records.order.status === "PENDING") {
    try {
      const report = await withTimeout(
        options.monitor.lagReport(),
        LAG_TIMEOUT_MS,
        () => new Error(`consumer group offsets did not arrive within ${LAG_TIMEOUT_MS} ms`),
      );
      groups = report.errors.some((e) => e.source === "kafka") ? undefined : report.groups;
      for (const e of report.errors.filter((e) => e.source === "kafka")) errors.push({ source: "kafka", message: e.message });
    } catch (lagError) {
      errors.push({ source: "kafka", message: message(lagError) });
    }
  }
  return buildTimeline({
    records,
    traceId,
    trace,
    jaegerUiUrl: jaegerUiLink(options, traceId),
    groups,
    topicName: (logical) => topicName(options.config, logical),
    errors,
    now: new Date(),
  });
}

export async function flightRecorderPlugin(scope: FastifyInstance, options: FlightRecorderOptions): Promise<void> {
  const db = executorOf(options.pool);
  const traces = options.traces ?? jaegerTraceSource(options.config.JAEGER_QUERY_URL);
  const onRequest = requireBearer(options.config.MONITOR_TOKEN, "orderflow-monitor", "MONITOR_TOKEN");

  scope.get<{ Params: { id: string } }>(
    "/orders/:id/timeline",
    {
      onRequest,
      schema: {
        tags: ["monitor"],
        summary:
          "Flight recorder of one order: every step in time order, where its events are in Kafka, and what it waits for (Authorization: Bearer <MONITOR_TOKEN> when set)",
        params: orderIdParamsSchema,
        response: { 200: { description: "The order's timeline", ...orderTimelineSchema }, ...problemResponses(400, 401, 404, 429, 503) },
      },
    },
    async (request, reply) => reply.header("cache-control", "no-store").send(await timelineOf(options, db, traces, request.params.id.toLowerCase())),
  );

  scope.get<{ Params: { id: string } }>(
    "/orders/:id/trace",
    {
      onRequest,
      schema: {
        tags: ["monitor"],
        summary:
          "The order's trace from Jaeger as a waterfall: spans with service, parent, start offset, duration, attributes, errors (Authorization: Bearer <MONITOR_TOKEN> when set)",
        params: orderIdParamsSchema,
        response: {
          200: { description: "The order's trace (trace null while Jaeger has none)", ...orderTraceSchema },
          ...problemResponses(400, 401, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const orderId = request.params.id.toLowerCase();
      const { traceId } = await resolveTraceId(db, traces, orderId);
      const { trace, error } = await readTrace(traces, traceId);
      return reply.header("cache-control", "no-store").send({ orderId, traceId, jaegerUiUrl: jaegerUiLink(options, traceId), trace: trace ?? null, error });
    },
  );

  serveStaticFiles(scope, pages);
}
