/**
 * The live console's server side: GET /monitor/console/stream (server-sent events: 15 minutes of samples on
 * connect, then each new sample and audit verdict), GET /monitor/audit/last, the dead-letter browser
 * (GET /monitor/dead-letters, GET /monitor/dead-letters/{group}) behind MONITOR_TOKEN, the replay
 * (POST /monitor/dead-letters/{group}/replay) behind OPS_TOKEN, and the chart library as a static asset.
 */
import { createRequire } from "node:module";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AppConfig } from "../../shared/config/config-schema.ts";
import { topicName } from "../../shared/config/load-config.ts";
import { readDeadLetters, replayDeadLetters, replayedFrom, selectLetters, type DeadLetter } from "../../shared/consumer/dead-letter-topics.ts";
import { DLQ_HEADERS } from "../../shared/consumer/dead-letter.ts";
import type { PrismaClient } from "../../shared/db/index.ts";
import { ServiceUnavailableError } from "../../shared/errors/http-errors.ts";
import { CONSUMER_GROUPS, deadLetterTopicOf, type ConsumerGroup } from "../../shared/events/topic-catalogue.ts";
import { createKafka, parseBrokers } from "../../shared/kafka/kafka-client.ts";
import type { Kafka } from "../../shared/kafka/kafka-types.ts";
import type { Registry } from "../../shared/metrics/metrics-registry.ts";
import { httpMetrics } from "../../shared/metrics/orderflow-metrics.ts";
import { readLastAudit } from "../console/audit-summary.ts";
import { ConsoleSampler, type ConsoleSources } from "../console/console-sampler.ts";
import { EventStreams } from "../console/event-streams.ts";
import type { CumulativeBuckets } from "../console/histogram-window.ts";
import { readOrderFlow } from "../console/order-flow.ts";
import { serveStaticFiles } from "../http/static-files.ts";
import { requireBearer } from "../http/bearer-auth.ts";
import type { MonitorService } from "../monitor/monitor-service.ts";

export interface ConsolePluginOptions {
  config: AppConfig;
  prisma: PrismaClient;
  registry: Registry;
  monitor: MonitorService;
  /** Kafka client for the dead-letter browser; built from config by default. */
  kafka?: Kafka;
}

/** Reading a dead-letter topic joins a throw-away consumer group (seconds, some CPU): a few at once at most. */
const MAX_CONCURRENT_DLQ_READS = 2;
const ACCEPT_ROUTE = { method: "POST", route: "/orders" } as const;

const looseObject = { type: "object", additionalProperties: true } as const;
const groupParams = { type: "object", required: ["group"], properties: { group: { type: "string", enum: [...CONSUMER_GROUPS] } } } as const;

/** Cumulative latency buckets of POST /orders in this process, summed over status codes. */
async function acceptBuckets(registry: Registry): Promise<CumulativeBuckets> {
  const { values } = await httpMetrics(registry).requestDuration.get();
  const byBound = new Map<number, number>();
  for (const value of values) {
    // Bucket samples carry `le` beside the histogram's own labels.
    const labels = value.labels as Record<string, string | number | undefined>;
    if (
      value.metricName !== "http_server_request_duration_seconds_bucket" ||
      labels.http_request_method !== ACCEPT_ROUTE.method ||
      labels.http_route !== ACCEPT_ROUTE.route
    )
      continue;
    const le = labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(labels.le);
    byBound.set(le, (byBound.get(le) ?? 0) + value.value);
  }
  const le = [...byBound.keys()].sort((a, b) => a - b);
  return { le, counts: le.map((bound) => byBound.get(bound)!) };
}

function letterView(letter: DeadLetter): Record<string, unknown> {
  const h = letter.headers;
  return {
    partition: letter.partition,
    offset: letter.offset,
    key: letter.key?.toString("utf8") ?? null,
    valueBytes: letter.value?.length ?? 0,
    eventType: h["event-type"] ?? null,
    errorCode: h[DLQ_HEADERS.errorCode] ?? null,
    errorMessage: h[DLQ_HEADERS.errorMessage] ?? null,
    originalTopic: h[DLQ_HEADERS.originalTopic] ?? null,
    deadLetteredAt: h[DLQ_HEADERS.deadLetteredAt] ?? null,
    headers: h,
  };
}

/** At most `limit` calls of `work` at once; the next ones get 503 + Retry-After instead of queueing. */
function bounded(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  return async (work) => {
    if (running >= limit)
      throw new ServiceUnavailableError({ detail: "Other dead-letter reads are running; try again in a moment", extensions: { retryAfterSeconds: 2 } });
    running += 1;
    try {
      return await work();
    } finally {
      running -= 1;
    }
  };
}

function registerStream(app: FastifyInstance, sampler: ConsoleSampler, streams: EventStreams, onRequest: ReturnType<typeof requireBearer>): void {
  app.get(
    "/monitor/console/stream",
    { onRequest, schema: { tags: ["monitor"], summary: "Server-sent events: console history on connect, then each sample and audit verdict" } },
    async (request: FastifyRequest, reply: FastifyReply) => {
      if (!streams.hasRoom()) throw new ServiceUnavailableError({ detail: "Too many console streams are open", extensions: { retryAfterSeconds: 5 } });
      reply.hijack();
      const response = reply.raw;
      const unsubscribe = sampler.subscribe((event) =>
        event.type === "sample" ? streams.send(response, "sample", event.sample) : streams.send(response, "audit", event.audit),
      );
      streams.add(response, unsubscribe);
      streams.send(response, "history", { intervalMs: sampler.intervalMs, historyMs: sampler.historyMs, groups: CONSUMER_GROUPS, samples: sampler.history() });
      streams.send(response, "audit", sampler.lastAudit());
      request.log.debug({ streams: streams.size }, "console stream opened");
    },
  );
}

function registerDeadLetterRoutes(app: FastifyInstance, options: ConsolePluginOptions & { kafka: Kafka }, onRequest: ReturnType<typeof requireBearer>): void {
  const { config, kafka, monitor } = options;
  const limitReads = bounded(MAX_CONCURRENT_DLQ_READS);
  const topicOf = (group: ConsumerGroup): string => topicName(config, deadLetterTopicOf(group));
  const opsAuth = requireBearer(config.OPS_TOKEN, "orderflow-ops", "OPS_TOKEN");

  app.get(
    "/monitor/dead-letters",
    { onRequest, schema: { tags: ["monitor"], summary: "Dead-letter topics per consumer group with their depth", response: { 200: looseObject } } },
    async (_request, reply) => {
      const report = await monitor.lagReport();
      const groups = CONSUMER_GROUPS.map((group) => ({
        group,
        topic: topicOf(group),
        depth: report.deadLetters.find((d) => d.topic === topicOf(group))?.depth ?? null,
      }));
      return reply.header("cache-control", "no-store").send({ groups, errors: report.errors });
    },
  );

  app.get<{ Params: { group: ConsumerGroup }; Querystring: { limit?: number } }>(
    "/monitor/dead-letters/:group",
    {
      onRequest,
      schema: {
        tags: ["monitor"],
        summary: "The newest dead letters of a group with their error headers",
        params: groupParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { limit: { type: "integer", minimum: 1, maximum: config.CONSOLE_DLQ_MAX_LETTERS } },
        },
        response: { 200: looseObject },
      },
    },
    async (request, reply) => {
      const { group } = request.params;
      const read = await limitReads(() =>
        readDeadLetters(kafka, topicOf(group), {
          maxLetters: request.query.limit ?? config.CONSOLE_DLQ_MAX_LETTERS,
          timeoutMs: config.CONSOLE_DLQ_READ_TIMEOUT_MS,
        }),
      );
      return reply
        .header("cache-control", "no-store")
        .send({ group, topic: read.topic, depth: read.depth, truncated: read.truncated, letters: read.letters.map(letterView) });
    },
  );

  app.post<{ Params: { group: ConsumerGroup }; Body: { partition: number; offset: string } }>(
    "/monitor/dead-letters/:group/replay",
    {
      onRequest: opsAuth,
      schema: {
        tags: ["monitor"],
        summary: "Replay one dead letter to its original topic (OPS_TOKEN); the same code path as npm run dlq -- replay",
        params: groupParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["partition", "offset"],
          properties: { partition: { type: "integer", minimum: 0 }, offset: { type: "string", pattern: "^[0-9]{1,19}$" } },
        },
        response: { 200: looseObject },
      },
    },
    async (request, reply) => {
      const { group } = request.params;
      const { partition, offset } = request.body;
      const letter = await limitReads(async () => {
        const { letters } = await readDeadLetters(kafka, topicOf(group), {
          only: { partition, offset: Number(offset) },
          timeoutMs: config.CONSOLE_DLQ_READ_TIMEOUT_MS,
        });
        const [chosen] = selectLetters(letters, { all: false, offset, partition });
        await replayDeadLetters(kafka, [chosen!]);
        return chosen!;
      });
      request.log.info({ group, partition, offset, to: letter.headers[DLQ_HEADERS.originalTopic] }, "dead letter replayed from the console");
      return reply.send({ replayed: 1, group, from: replayedFrom(letter), to: letter.headers[DLQ_HEADERS.originalTopic] });
    },
  );
}

/** uPlot's browser build, served from node_modules (no build step, no CDN). */
function registerChartAssets(app: FastifyInstance): void {
  const require = createRequire(import.meta.url);
  const files = {
    "/live-page/vendor/uPlot.iife.min.js": require.resolve("uplot/dist/uPlot.iife.min.js"),
    "/live-page/vendor/uPlot.min.css": require.resolve("uplot/dist/uPlot.min.css"),
  };
  serveStaticFiles(app, files, "public, max-age=3600");
}

export async function consolePlugin(app: FastifyInstance, options: ConsolePluginOptions): Promise<void> {
  const { config, prisma, registry, monitor } = options;
  const kafka =
    options.kafka ??
    createKafka({
      brokers: parseBrokers(config.KAFKA_BROKERS),
      clientId: `${config.KAFKA_CLIENT_ID}-console`,
      connectionTimeoutMs: 1_500,
      requestTimeoutMs: 5_000,
      retries: 1,
      logLevel: "nothing",
    });
  const sources: ConsoleSources = {
    lagReport: () => monitor.lagReport(),
    orderFlow: (from, to) => readOrderFlow(prisma, from, to),
    acceptBuckets: () => acceptBuckets(registry),
    lastAudit: () => readLastAudit(prisma),
  };
  const sampler = new ConsoleSampler(sources, {
    intervalMs: config.CONSOLE_SAMPLE_INTERVAL_MS,
    historyMs: config.CONSOLE_HISTORY_SECONDS * 1000,
    onError: (error, source) => app.log.warn({ err: error, source }, "console sample: a source could not be read"),
  });
  const streams = new EventStreams({ maxStreams: config.CONSOLE_MAX_STREAMS });
  const onRequest = requireBearer(config.MONITOR_TOKEN, "orderflow-monitor", "MONITOR_TOKEN");

  registerStream(app, sampler, streams, onRequest);
  registerDeadLetterRoutes(app, { ...options, kafka }, onRequest);
  registerChartAssets(app);
  app.get(
    "/monitor/audit/last",
    { onRequest, schema: { tags: ["monitor"], summary: "The newest npm run audit verdict (null when none ran)" } },
    async (_request, reply) => reply.header("cache-control", "no-store").send({ audit: await readLastAudit(prisma) }),
  );
  app.addHook("onReady", async () => sampler.start());
  // Streams end before the server waits for its connections to drain.
  app.addHook("preClose", async () => {
    sampler.stop();
    streams.closeAll();
  });
}
