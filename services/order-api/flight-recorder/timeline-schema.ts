/**
 * Response schemas of GET /orders/{id}/timeline and GET /orders/{id}/trace: they serialize the answers and document
 * them at /docs. Free-form parts (a step's detail, span attributes) stay open objects.
 */
const open = { type: "object", additionalProperties: true } as const;
const str = { type: "string" } as const;
const strOrNull = { type: ["string", "null"] } as const;
const numOrNull = { type: ["number", "null"] } as const;
const num = { type: "number" } as const;

function object(properties: Record<string, unknown>, description?: string): Record<string, unknown> {
  return { type: "object", additionalProperties: false, required: Object.keys(properties), properties, ...(description ? { description } : {}) };
}

const eventSchema = object(
  {
    outboxId: str,
    eventType: str,
    eventId: str,
    writtenBy: { type: "string", description: "The service whose transaction wrote the outbox row" },
    topic: { type: "string", description: "Logical topic (TOPIC_PREFIX not applied)" },
    createdAt: str,
    publishedAt: strOrNull,
    partition: { type: ["integer", "null"], description: "Kafka partition the relay's produce landed on; null until published" },
    offset: { type: ["string", "null"], description: "Kafka offset (int64 as a decimal string); null until published" },
    attempts: { type: "integer" },
    lastError: strOrNull,
    failedAt: strOrNull,
    relayLatencyMs: numOrNull,
    consumers: { type: "array", items: object({ group: str, processedAt: strOrNull, latencyMs: numOrNull }) },
  },
  "One outbox row of the order: the event, where it is in Kafka, and which consumer groups recorded it (inbox)",
);

const stepSchema = object({
  at: str,
  sinceOrderMs: num,
  source: { type: "string", enum: ["status", "outbox", "kafka", "inbox", "effect", "trace"] },
  service: str,
  what: str,
  detail: open,
});

export const orderTimelineSchema = object({
  orderId: str,
  status: { type: "string", enum: ["PENDING", "CONFIRMED", "CANCELLED"] },
  terminal: { type: "boolean" },
  customerId: str,
  totalMinor: { type: "integer" },
  currency: str,
  cancelReason: strOrNull,
  createdAt: str,
  updatedAt: str,
  traceId: strOrNull,
  waitingFor: { type: ["string", "null"], description: "For an order that is not terminal: what it waits for, as a sentence" },
  waitingReasons: { type: "array", items: str },
  events: { type: "array", items: eventSchema },
  effects: object({
    reservations: { type: "array", items: object({ sku: str, quantity: { type: "integer" }, status: str, createdAt: str, updatedAt: str }) },
    payment: {
      anyOf: [
        { type: "null" },
        object({
          providerPaymentId: strOrNull,
          amountMinor: { type: "integer" },
          currency: str,
          status: str,
          declineReason: strOrNull,
          createdAt: str,
          updatedAt: str,
        }),
      ],
    },
    notifications: {
      type: "array",
      items: object({ kind: str, channel: str, status: str, attempts: { type: "integer" }, lastError: strOrNull, createdAt: str, sentAt: strOrNull }),
    },
    outcome: {
      anyOf: [{ type: "null" }, object({ stockStatus: strOrNull, stockReason: strOrNull, paymentStatus: strOrNull, paymentReason: strOrNull, updatedAt: str })],
    },
    deadlineAt: strOrNull,
    tombstones: { type: "array", items: object({ group: str, reason: str, at: str }) },
  }),
  steps: { type: "array", items: stepSchema },
  trace: object({
    found: { type: "boolean" },
    spanCount: { type: "integer" },
    services: { type: "array", items: str },
    durationMs: numOrNull,
    error: strOrNull,
    jaegerUiUrl: strOrNull,
  }),
  errors: { type: "array", items: object({ source: str, message: str }) },
});

const spanSchema = object({
  spanId: str,
  parentSpanId: strOrNull,
  depth: { type: "integer" },
  parentMissing: { type: "boolean" },
  service: str,
  name: str,
  kind: strOrNull,
  startTime: str,
  startOffsetMs: num,
  durationMs: num,
  attributes: open,
  events: { type: "array", items: object({ offsetMs: num, attributes: open }) },
  error: { type: "boolean" },
  errorMessage: strOrNull,
  hop: { anyOf: [{ type: "null" }, object({ fromService: str, gapMs: num })] },
});

export const orderTraceSchema = object({
  orderId: str,
  traceId: strOrNull,
  jaegerUiUrl: { type: ["string", "null"], description: "The same trace in a full Jaeger UI, when JAEGER_UI_URL is set" },
  trace: {
    anyOf: [
      { type: "null" },
      object({
        traceId: str,
        startTime: str,
        durationMs: num,
        services: { type: "array", items: str },
        spanCount: { type: "integer" },
        errorCount: { type: "integer" },
        spans: { type: "array", items: spanSchema },
      }),
    ],
  },
  error: strOrNull,
});
