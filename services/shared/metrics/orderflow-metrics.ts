import { Counter, Gauge, Histogram, type Registry } from "prom-client";

// Every Orderflow metric is defined here, once. Names follow Prometheus conventions (base units, _total counters);
// the HTTP histogram uses the OpenTelemetry semantic-convention name http.server.request.duration.

/** Seconds; from a fast local request to a slow dependency timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds from order placed to CONFIRMED/CANCELLED: the whole pipeline, up to the monitor's "stuck" range. */
const ORDER_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900];

/** Creates the metrics of one area on a registry at most once (prom-client refuses duplicate names). */
function perRegistry<T>(create: (registry: Registry) => T): (registry: Registry) => T {
  const cache = new WeakMap<Registry, T>();
  return (registry) => {
    let metrics = cache.get(registry);
    if (metrics === undefined) {
      metrics = create(registry);
      cache.set(registry, metrics);
    }
    return metrics;
  };
}

export const httpMetrics = perRegistry((registry) => ({
  requestDuration: new Histogram({
    name: "http_server_request_duration_seconds",
    help: "Duration of HTTP server requests (route template, not the raw URL, so cardinality stays bounded).",
    labelNames: ["http_request_method", "http_route", "http_response_status_code"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
}));

export const orderMetrics = perRegistry((registry) => ({
  placed: new Counter({
    name: "orderflow_orders_placed_total",
    help: "Orders accepted (201 Created) by this API instance.",
    labelNames: ["currency"] as const,
    registers: [registry],
  }),
  placedToTerminal: new Histogram({
    name: "orderflow_order_placed_to_terminal_seconds",
    help: "Time from an order's creation to CONFIRMED or CANCELLED, observed when the final status is written.",
    labelNames: ["status"] as const,
    buckets: ORDER_LATENCY_BUCKETS,
    registers: [registry],
  }),
}));

export const consumerMetrics = perRegistry((registry) => ({
  processingDuration: new Histogram({
    name: "orderflow_consumer_processing_duration_seconds",
    help: "Time to process one message (effect + inbox + outbox transaction), by outcome.",
    labelNames: ["consumer_group", "topic", "outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  retries: new Counter({
    name: "orderflow_consumer_retries_total",
    help: "Processing attempts that failed transiently and were retried after backoff.",
    labelNames: ["consumer_group", "topic"] as const,
    registers: [registry],
  }),
  deadLetters: new Counter({
    name: "orderflow_consumer_dead_letters_total",
    help: "Messages this process sent to its dead-letter topic.",
    labelNames: ["consumer_group", "topic"] as const,
    registers: [registry],
  }),
}));

/**
 * Gauges read from Kafka and PostgreSQL by the API's monitor (not from the consumers or the relay themselves):
 * a stopped consumer or relay cannot report its own lag, and that is exactly when the number matters.
 */
export const backlogMetrics = perRegistry((registry) => ({
  consumerLag: new Gauge({
    name: "orderflow_consumer_lag_messages",
    help: "Log end offset minus the group's committed offset, per partition (as kafka-consumer-groups reports it).",
    labelNames: ["consumer_group", "topic", "partition"] as const,
    registers: [registry],
  }),
  outboxBacklog: new Gauge({ name: "orderflow_outbox_backlog_rows", help: "Outbox rows not yet published (failed rows excluded).", registers: [registry] }),
  outboxOldestAge: new Gauge({
    name: "orderflow_outbox_oldest_unpublished_age_seconds",
    help: "Age of the oldest unpublished outbox row.",
    registers: [registry],
  }),
  outboxFailed: new Gauge({ name: "orderflow_outbox_failed_rows", help: "Outbox rows given up on (they hold back their order).", registers: [registry] }),
  deadLetterDepth: new Gauge({
    name: "orderflow_dead_letter_topic_messages",
    help: "Messages in each dead-letter topic.",
    labelNames: ["topic"] as const,
    registers: [registry],
  }),
  stuckOrders: new Gauge({
    name: "orderflow_orders_pending_too_long",
    help: "Orders PENDING for longer than MONITOR_STUCK_AFTER_SECONDS.",
    registers: [registry],
  }),
}));

/** order-state calls this when it writes CONFIRMED or CANCELLED. */
export function recordOrderTerminal(registry: Registry, status: "CONFIRMED" | "CANCELLED", placedAt: Date, at: Date = new Date()): void {
  orderMetrics(registry).placedToTerminal.observe({ status }, Math.max(0, (at.getTime() - placedAt.getTime()) / 1000));
}
