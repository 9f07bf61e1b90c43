/**
 * Every environment variable Orderflow reads, with a default that works on the local stack (.env.example mirrors this).
 * Validated with JSON schema (Ajv, as Fastify does) so a typo fails at start with the variable's name.
 */
export const configSchema = {
  type: "object",
  additionalProperties: true,
  properties: {
    LOG_LEVEL: { type: "string", enum: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], default: "info" },
    DATABASE_URL: { type: "string", pattern: "^postgres(ql)?://", default: "postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow" },
    DATABASE_POOL_SIZE: { type: "integer", minimum: 1, maximum: 200, default: 10 },
    DATABASE_CONNECT_TIMEOUT_MS: { type: "integer", minimum: 100, maximum: 60000, default: 3000 },
    DATABASE_STATEMENT_TIMEOUT_MS: { type: "integer", minimum: 100, maximum: 600000, default: 10000 },
    DATABASE_IDLE_IN_TX_TIMEOUT_MS: { type: "integer", minimum: 100, maximum: 600000, default: 15000 },
    KAFKA_BROKERS: { type: "string", minLength: 1, default: "127.0.0.1:9092" },
    KAFKA_CLIENT_ID: { type: "string", minLength: 1, default: "orderflow" },
    TOPIC_PREFIX: { type: "string", pattern: "^[a-zA-Z0-9._-]*$", default: "" },
    TOPIC_PARTITIONS: { type: "integer", minimum: 1, maximum: 1000, default: 6 },
    SCHEMA_REGISTRY_URL: { type: "string", pattern: "^https?://", default: "http://127.0.0.1:8081/apis/ccompat/v7" },
    OTEL_EXPORTER_OTLP_ENDPOINT: { type: "string", pattern: "^https?://", default: "http://127.0.0.1:4317" },
    TRACE_DB_STATEMENTS: { type: "boolean", default: false },
    JAEGER_QUERY_URL: { type: "string", pattern: "^https?://", default: "http://127.0.0.1:16686" },
    JAEGER_UI_URL: { type: "string", pattern: "^(https?://.*)?$", default: "" },
    API_HOST: { type: "string", minLength: 1, default: "127.0.0.1" },
    API_PORT: { type: "integer", minimum: 0, maximum: 65535, default: 3000 },
    API_BODY_LIMIT_BYTES: { type: "integer", minimum: 1024, maximum: 10485760, default: 65536 },
    IDEMPOTENCY_KEY_TTL_SECONDS: { type: "integer", minimum: 60, maximum: 2592000, default: 86400 },
    SHUTDOWN_GRACE_MS: { type: "integer", minimum: 0, maximum: 120000, default: 10000 },
    // -1: the brokers' default.replication.factor (1 on the single node, 3 on the kafka-cluster profile), so
    // pointing KAFKA_BROKERS at another cluster is all it takes.
    TOPIC_REPLICATION_FACTOR: { type: "integer", minimum: -1, maximum: 10, not: { const: 0 }, default: -1 },
    RELAY_SHARDS: { type: "integer", minimum: 1, maximum: 1024, default: 16 },
    RELAY_BATCH_SIZE: { type: "integer", minimum: 1, maximum: 10000, default: 500 },
    RELAY_POLL_INTERVAL_MS: { type: "integer", minimum: 5, maximum: 60000, default: 50 },
    RELAY_WAKEUP: { type: "string", enum: ["poll", "notify"], default: "poll" },
    RELAY_MAX_ENCODE_ATTEMPTS: { type: "integer", minimum: 1, maximum: 100, default: 5 },
    OUTBOX_RETENTION_HOURS: { type: "integer", minimum: 1, maximum: 8760, default: 72 },
    OUTBOX_RETENTION_INTERVAL_MS: { type: "integer", minimum: 1000, maximum: 86400000, default: 60000 },
    CONSUMER_MAX_WAIT_MS: { type: "integer", minimum: 0, maximum: 10000, default: 50 },
    CONSUMER_MIN_BYTES: { type: "integer", minimum: 1, maximum: 10485760, default: 4096 },
    CONSUMER_LINGER_MS: { type: "integer", minimum: 0, maximum: 1000, default: 5 },
    CONSUMER_COMMIT_INTERVAL_MS: { type: "integer", minimum: 10, maximum: 60000, default: 100 },
    CONSUMER_SESSION_TIMEOUT_MS: { type: "integer", minimum: 6000, maximum: 300000, default: 15000 },
    CONSUMER_HEARTBEAT_INTERVAL_MS: { type: "integer", minimum: 100, maximum: 60000, default: 1000 },
    CONSUMER_PARTITIONS_CONCURRENCY: { type: "integer", minimum: 1, maximum: 100, default: 12 },
    CONSUMER_BATCH_SIZE: { type: "integer", minimum: 1, maximum: 5000, default: 200 },
    CONSUMER_MAX_ATTEMPTS: { type: "integer", minimum: 1, maximum: 100, default: 5 },
    CONSUMER_RETRY_INITIAL_MS: { type: "integer", minimum: 1, maximum: 60000, default: 100 },
    CONSUMER_RETRY_MAX_MS: { type: "integer", minimum: 1, maximum: 600000, default: 5000 },
    CONSUMER_DB_PAUSE_INITIAL_MS: { type: "integer", minimum: 10, maximum: 60000, default: 500 },
    CONSUMER_DB_PAUSE_MAX_MS: { type: "integer", minimum: 10, maximum: 600000, default: 10000 },
    PAYMENT_LATENCY_MS: { type: "integer", minimum: 0, maximum: 60000, default: 15 },
    PAYMENT_DECLINE_ABOVE_MINOR: { type: "integer", minimum: 0, default: 500000 },
    PAYMENT_DECLINE_CUSTOMER_PREFIX: { type: "string", minLength: 1, default: "decline-" },
    PAYMENT_PENDING_CUSTOMER_PREFIX: { type: "string", minLength: 1, default: "pending-" },
    PAYMENT_TRANSIENT_ERROR_RATE: { type: "number", minimum: 0, maximum: 1, default: 0 },
    PAYMENT_TIMEOUT_MS: { type: "integer", minimum: 10, maximum: 60000, default: 3000 },
    PAYMENT_WEBHOOK_SECRET: { type: "string", minLength: 16, default: "orderflow-dev-webhook-secret" },
    WEBHOOK_TOLERANCE_SECONDS: { type: "integer", minimum: 1, maximum: 3600, default: 300 },
    PAYMENT_RECONCILE_INTERVAL_MS: { type: "integer", minimum: 50, maximum: 600000, default: 1000 },
    PREFER_WAIT_MAX_SECONDS: { type: "integer", minimum: 0, maximum: 30, default: 30 },
    ORDER_WAIT_POLL_INTERVAL_MS: { type: "integer", minimum: 10, maximum: 10000, default: 500 },
    /** Bearer token for /monitor/*; empty = open (bind the API to 127.0.0.1 then). */
    MONITOR_TOKEN: { type: "string", default: "" },
    /** Orders PENDING longer than this are listed as stuck by /monitor/lag. */
    MONITOR_STUCK_AFTER_SECONDS: { type: "integer", minimum: 1, maximum: 604800, default: 60 },
    /** Bearer token of operations that change something (replaying dead letters from the console); empty = open (development on loopback only). */
    OPS_TOKEN: { type: "string", default: "" },
    /** The live console samples the pipeline (lag, backlog, order flow, accept latency) once per this period. */
    CONSOLE_SAMPLE_INTERVAL_MS: { type: "integer", minimum: 250, maximum: 60000, default: 2000 },
    /** History the console keeps in memory and sends to a browser on connect. */
    CONSOLE_HISTORY_SECONDS: { type: "integer", minimum: 60, maximum: 86400, default: 900 },
    /** Most console event streams open at once; the next ones get 503. */
    CONSOLE_MAX_STREAMS: { type: "integer", minimum: 1, maximum: 1000, default: 20 },
    /** Newest dead letters per partition the console's browser reads. */
    CONSOLE_DLQ_MAX_LETTERS: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
    /** Bound on one read of a dead-letter topic (joining a throw-away group included). */
    CONSOLE_DLQ_READ_TIMEOUT_MS: { type: "integer", minimum: 1000, maximum: 120000, default: 15000 },
    /** /metrics listener of the processes without an HTTP server (relay, consumers). */
    METRICS_HOST: { type: "string", minLength: 1, default: "127.0.0.1" },
    /** 0 = a free port, logged at start (N instances never collide); set one per instance for Prometheus. */
    METRICS_PORT: { type: "integer", minimum: 0, maximum: 65535, default: 0 },
    /** order-state cancels an order still PENDING this long after its first outcome ("payment deadline passed"). */
    SAGA_PAYMENT_DEADLINE_SECONDS: { type: "integer", minimum: 1, maximum: 604800, default: 900 },
    /** How often order-state's deadline job looks for passed deadlines. */
    SAGA_DEADLINE_INTERVAL_MS: { type: "integer", minimum: 50, maximum: 600000, default: 5000 },
    /** Most orders the deadline job cancels per transaction. */
    SAGA_DEADLINE_BATCH_SIZE: { type: "integer", minimum: 1, maximum: 10000, default: 100 },
    /** Inbox rows (first-delivery marks) older than this are deleted; a redelivery older than it would run again. */
    INBOX_RETENTION_HOURS: { type: "integer", minimum: 1, maximum: 8760, default: 168 },
    /** How often each consumer service runs its retention (its group's inbox rows; payment: old callbacks). */
    CONSUMER_RETENTION_INTERVAL_MS: { type: "integer", minimum: 1000, maximum: 86400000, default: 60000 },
    /** The payment reconciler stops looking for the payment of a callback this old (marks it expired). */
    PAYMENT_CALLBACK_EXPIRE_HOURS: { type: "integer", minimum: 1, maximum: 8760, default: 24 },
    /** Reconciled or expired payment callbacks are deleted this long after they arrived. */
    PAYMENT_CALLBACK_RETENTION_HOURS: { type: "integer", minimum: 1, maximum: 8760, default: 720 },
    /** production: the API refuses to start with development secrets; development also requires them off loopback. */
    ORDERFLOW_ENV: { type: "string", enum: ["development", "production"], default: "development" },
    /** Bearer token for reads of customer data (GET /orders, GET /orders/{id}); empty = open (development only). */
    ORDERS_READ_TOKEN: { type: "string", default: "" },
    /** The API answers 503 at once when the requests waiting for a database connection would wait longer than this; 0 = never shed. */
    API_SHED_QUEUE_WAIT_MS: { type: "integer", minimum: 0, maximum: 600000, default: 2000 },
    /** ... or when this many already wait, whatever the pace (a burst arrives before any pace is known); 0 = no cap. */
    API_SHED_MAX_WAITING: { type: "integer", minimum: 0, maximum: 1000000, default: 200 },
    /** Requests per client (API token, else address) per RATE_LIMIT_WINDOW_MS; 0 = no limit. */
    RATE_LIMIT_MAX: { type: "integer", minimum: 0, maximum: 10000000, default: 5000 },
    RATE_LIMIT_WINDOW_MS: { type: "integer", minimum: 100, maximum: 3600000, default: 1000 },
    /** Most `Prefer: wait` requests held at once; the next ones answer at once with the current state. */
    ORDER_WAIT_MAX_WAITERS: { type: "integer", minimum: 0, maximum: 1000000, default: 1000 },
    /** How long the API prices orders from its in-memory copy of a product before re-reading it; 0 = no cache. */
    CATALOGUE_CACHE_TTL_MS: { type: "integer", minimum: 0, maximum: 3600000, default: 2000 },
    /** /metrics serves cached backlog gauges, refreshed (Kafka + database) at most once per this period. */
    MONITOR_GAUGE_REFRESH_MS: { type: "integer", minimum: 100, maximum: 3600000, default: 10000 },
    /** A relay whose lock session stayed silent this long (frozen host) is disconnected by the others, which take its shards. */
    RELAY_MEMBER_LEASE_MS: { type: "integer", minimum: 1000, maximum: 600000, default: 15000 },
  },
} as const;

/** The TypeScript type of one property of the schema: its enum's members, else its JSON type. */
type ValueOf<P> = P extends { enum: readonly (infer Member)[] }
  ? Member
  : P extends { type: "integer" | "number" }
    ? number
    : P extends { type: "boolean" }
      ? boolean
      : P extends { type: "string" }
        ? string
        : never;

type ConfigProperties = (typeof configSchema)["properties"];

/**
 * The validated configuration, derived from configSchema so a variable is declared once: adding one to the schema
 * adds it here (with its doc comment), and a type that no longer matches its schema fails the typecheck.
 */
export type AppConfig = { -readonly [Name in keyof ConfigProperties]: ValueOf<ConfigProperties[Name]> };
