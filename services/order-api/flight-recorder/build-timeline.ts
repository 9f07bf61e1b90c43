/**
 * The order flight recorder: every recorded step of one order in time order (status history, outbox rows and where
 * Kafka put them, each consumer group's inbox record, the effects, the trace's hops), and for an order that is not
 * terminal one plain sentence saying what it waits for. Pure: the records come from timeline-sql.ts, the group
 * positions from the lag monitor, the trace from Jaeger.
 */
import type { GroupReport } from "../../shared/monitoring/lag-report.ts";
import type { TraceView } from "../trace-view/jaeger-query.ts";
import { DECIDING_GROUPS, EVENT_CONSUMERS, writerOf } from "./event-consumers.ts";
import type { OrderRecords, OutboxTimelineRow } from "./timeline-sql.ts";

export type StepSource = "status" | "outbox" | "kafka" | "inbox" | "effect" | "trace";

export interface TimelineStep {
  at: string;
  /** Milliseconds since the order was placed. */
  sinceOrderMs: number;
  source: StepSource;
  service: string;
  what: string;
  detail: Record<string, unknown>;
}

export interface TimelineEvent {
  outboxId: string;
  eventType: string;
  eventId: string;
  writtenBy: string;
  topic: string;
  createdAt: string;
  publishedAt: string | null;
  /** Null until published (and for rows published before the relay recorded placements). */
  partition: number | null;
  offset: string | null;
  attempts: number;
  lastError: string | null;
  failedAt: string | null;
  /** Outbox write -> Kafka ack, from the row's own timestamps. */
  relayLatencyMs: number | null;
  /** Per consumer group that handles this event type: when it recorded it (null: not yet) and the latency from publish. */
  consumers: Array<{ group: string; processedAt: string | null; latencyMs: number | null }>;
}

export interface OrderTimeline {
  orderId: string;
  status: string;
  terminal: boolean;
  customerId: string;
  totalMinor: number;
  currency: string;
  cancelReason: string | null;
  createdAt: string;
  updatedAt: string;
  traceId: string | null;
  /** The first reason the order is not terminal yet, as a sentence; null for a terminal order. */
  waitingFor: string | null;
  /** Every reason found, most blocking first. */
  waitingReasons: string[];
  events: TimelineEvent[];
  effects: {
    reservations: Array<{ sku: string; quantity: number; status: string; createdAt: string; updatedAt: string }>;
    payment: {
      providerPaymentId: string | null;
      amountMinor: number;
      currency: string;
      status: string;
      declineReason: string | null;
      createdAt: string;
      updatedAt: string;
    } | null;
    notifications: Array<{
      kind: string;
      channel: string;
      status: string;
      attempts: number;
      lastError: string | null;
      createdAt: string;
      sentAt: string | null;
    }>;
    outcome: { stockStatus: string | null; stockReason: string | null; paymentStatus: string | null; paymentReason: string | null; updatedAt: string } | null;
    deadlineAt: string | null;
    tombstones: Array<{ group: string; reason: string; at: string }>;
  };
  steps: TimelineStep[];
  trace: { found: boolean; spanCount: number; services: string[]; durationMs: number | null; error: string | null; jaegerUiUrl: string | null };
  /** Sources that could not be read (Jaeger, Kafka); the rest is still true. */
  errors: Array<{ source: "jaeger" | "kafka"; message: string }>;
}

export interface TimelineInputs {
  records: OrderRecords;
  traceId: string | null;
  trace: TraceView | undefined;
  /** The consumer groups' committed offsets (logical group names); undefined when Kafka did not answer. */
  groups: GroupReport[] | undefined;
  /** The trace in a full Jaeger UI, when one is configured (JAEGER_UI_URL). */
  jaegerUiUrl: string | null;
  /** Full topic name of a logical one (TOPIC_PREFIX). */
  topicName: (logical: string) => string;
  errors: OrderTimeline["errors"];
  now: Date;
}

const iso = (date: Date): string => date.toISOString();
const isoOrNull = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);
const between = (from: Date | null | undefined, to: Date | null | undefined): number | null => (from && to ? to.getTime() - from.getTime() : null);
const seconds = (ms: number): string => `${Math.max(0, Math.round(ms / 1000))} s`;

function toEvents(records: OrderRecords): TimelineEvent[] {
  const processed = new Map(records.inbox.map((row) => [`${row.consumer_group}\u0000${row.event_id}`, row.processed_at]));
  return records.outbox.map((row) => ({
    outboxId: row.id,
    eventType: row.event_type,
    eventId: row.event_id,
    writtenBy: writerOf(row.event_type),
    topic: row.topic,
    createdAt: iso(row.created_at),
    publishedAt: isoOrNull(row.published_at),
    partition: row.kafka_partition,
    offset: row.kafka_offset,
    attempts: row.attempts,
    lastError: row.last_error,
    failedAt: isoOrNull(row.failed_at),
    relayLatencyMs: between(row.created_at, row.published_at),
    consumers: (EVENT_CONSUMERS[row.event_type] ?? []).map((group) => {
      const at = processed.get(`${group}\u0000${row.event_id}`);
      return { group, processedAt: isoOrNull(at), latencyMs: between(row.published_at, at) };
    }),
  }));
}

function recordSteps(records: OrderRecords, events: readonly TimelineEvent[]): Array<Omit<TimelineStep, "sinceOrderMs">> {
  const steps: Array<Omit<TimelineStep, "sinceOrderMs">> = [];
  const add = (at: Date | string | null, source: StepSource, service: string, what: string, detail: Record<string, unknown> = {}): void => {
    if (at !== null) steps.push({ at: typeof at === "string" ? at : iso(at), source, service, what, detail });
  };
  for (const row of records.history)
    add(row.at, "status", row.status === "PENDING" ? "order-api" : "order-state", `status ${row.status}${row.reason ? ` (${row.reason})` : ""}`, {
      status: row.status,
      reason: row.reason,
    });
  for (const event of events) {
    add(event.createdAt, "outbox", event.writtenBy, `${event.writtenBy} wrote ${event.eventType} (outbox row ${event.outboxId})`, {
      outboxId: event.outboxId,
      eventId: event.eventId,
    });
    const where = event.partition === null ? event.topic : `${event.topic} partition ${event.partition} offset ${event.offset}`;
    add(event.publishedAt, "kafka", "outbox-relay", `relay published ${event.eventType} to ${where}`, {
      topic: event.topic,
      partition: event.partition,
      offset: event.offset,
      latencyMs: event.relayLatencyMs,
    });
    add(
      event.failedAt,
      "outbox",
      "outbox-relay",
      `relay gave up on ${event.eventType} after ${event.attempts} attempts: ${event.lastError ?? "unknown error"}`,
      { outboxId: event.outboxId },
    );
    for (const consumer of event.consumers)
      add(consumer.processedAt, "inbox", consumer.group, `${consumer.group} processed ${event.eventType}`, {
        eventId: event.eventId,
        latencyMs: consumer.latencyMs,
      });
  }
  for (const r of records.reservations) {
    add(r.created_at, "effect", "inventory", `reserved ${r.quantity} × ${r.sku}`, { sku: r.sku });
    if (r.status !== "RESERVED")
      add(r.updated_at, "effect", "inventory", `reservation of ${r.sku} ${r.status.toLowerCase()}`, { sku: r.sku, status: r.status });
  }
  const payment = records.payment;
  if (payment) {
    add(payment.created_at, "effect", "payment", `payment of ${(Number(payment.amount_minor) / 100).toFixed(2)} ${payment.currency} requested`, {
      providerPaymentId: payment.provider_payment_id,
    });
    if (payment.status !== "PENDING" || payment.updated_at.getTime() !== payment.created_at.getTime())
      add(payment.updated_at, "effect", "payment", `payment ${payment.status}${payment.decline_reason ? ` (${payment.decline_reason})` : ""}`, {
        status: payment.status,
      });
  }
  for (const c of records.callbacks) add(c.received_at, "effect", "payment", `provider callback ${c.event_type}`, { reconciledAt: isoOrNull(c.reconciled_at) });
  for (const n of records.notifications)
    add(n.sent_at ?? n.created_at, "effect", "notification", `${n.kind} notification ${n.status.toLowerCase()} via ${n.channel}`, {
      attempts: n.attempts,
      lastError: n.last_error,
    });
  for (const t of records.tombstones) add(t.at, "effect", t.consumer_group, `${t.consumer_group} closed the order (${t.reason})`, {});
  return steps;
}

function traceSteps(trace: TraceView | undefined): Array<Omit<TimelineStep, "sinceOrderMs">> {
  if (trace === undefined) return [];
  return trace.spans
    .filter((span) => span.depth === 0 || span.hop !== null)
    .map((span) => ({
      at: span.startTime,
      source: "trace" as const,
      service: span.service,
      what: `span ${span.name} (${span.durationMs.toFixed(1)} ms)${span.hop ? `, ${span.hop.gapMs.toFixed(1)} ms after ${span.hop.fromService}` : ""}${span.error ? ` — error: ${span.errorMessage}` : ""}`,
      detail: { spanId: span.spanId, durationMs: span.durationMs, hopFrom: span.hop?.fromService ?? null, hopGapMs: span.hop?.gapMs ?? null },
    }));
}

function sortedSteps(records: OrderRecords, events: readonly TimelineEvent[], trace: TraceView | undefined): TimelineStep[] {
  const placed = records.order.created_at.getTime();
  const rank: Record<StepSource, number> = { status: 0, outbox: 1, kafka: 2, trace: 3, inbox: 4, effect: 5 };
  return [...recordSteps(records, events), ...traceSteps(trace)]
    .map((step) => ({ ...step, sinceOrderMs: Date.parse(step.at) - placed }))
    .sort((a, b) => a.sinceOrderMs - b.sinceOrderMs || rank[a.source] - rank[b.source]);
}

/** Why a published event has no inbox row of `group` yet, from the group's committed offset on its partition. */
function unconsumedReason(event: TimelineEvent, group: string, inputs: TimelineInputs): string {
  const at = event.partition === null ? event.topic : `${event.topic} partition ${event.partition} offset ${event.offset}`;
  const since = event.publishedAt === null ? "" : `, published ${seconds(inputs.now.getTime() - Date.parse(event.publishedAt))} ago`;
  const report = inputs.groups?.find((g) => g.group === group);
  const position = report?.partitions.find((p) => p.topic === inputs.topicName(event.topic) && p.partition === event.partition);
  if (report === undefined || event.partition === null || event.offset === null)
    return `The ${group} group has not processed ${event.eventType} yet (${at}${since}).`;
  if (report.members === 0) return `The ${group} group has not processed ${event.eventType} (${at}${since}): the group has no running member.`;
  const committed = position?.committedOffset ?? null;
  if (committed !== null && BigInt(committed) > BigInt(event.offset)) {
    return `The ${group} group moved past ${event.eventType} (${at}, committed offset ${committed}) without recording it: the event is in the dead-letter topic ${inputs.topicName(`dlq.${group}`)} (npm run dlq -- list --group ${group}; replay it with npm run dlq -- replay --group ${group}).`;
  }
  const owner = position?.owner ? `, owned by ${position.owner.clientId}` : "";
  return `The ${group} group has not reached ${event.eventType} (${at}${since}): its committed offset there is ${committed ?? "none"} (lag ${position?.lag ?? "unknown"}${owner}); if it does not move, that partition is paused (a dependency of ${group} is unavailable, see its log) or the group is behind.`;
}

function outboxReasons(rows: readonly OutboxTimelineRow[], now: Date): string[] {
  const reasons: string[] = [];
  const failed = rows.find((row) => row.failed_at !== null && row.published_at === null);
  if (failed) {
    const behind = rows.filter((row) => row.published_at === null && BigInt(row.id) > BigInt(failed.id)).length;
    reasons.push(
      `The ${failed.event_type} event (outbox row ${failed.id}) failed for good after ${failed.attempts} attempts (${failed.last_error ?? "no error recorded"}); it holds back this order's ${behind} later event(s) until it is retried: npm run outbox -- retry --id ${failed.id}.`,
    );
  }
  for (const row of rows.filter((r) => r.published_at === null && r.failed_at === null)) {
    if (failed && BigInt(row.id) > BigInt(failed.id)) continue;
    reasons.push(
      row.last_error
        ? `The ${row.event_type} event (outbox row ${row.id}) could not be encoded ${row.attempts} time(s) (${row.last_error}); the relay tries it again after a backoff.`
        : `The relay has not published the ${row.event_type} event (outbox row ${row.id}) written ${seconds(now.getTime() - row.created_at.getTime())} ago.`,
    );
  }
  return reasons;
}

function outcomeReasons(records: OrderRecords, now: Date): string[] {
  const reasons: string[] = [];
  const payment = records.payment;
  if (payment?.status === "PENDING") {
    const deadline = records.deadline ? `; the saga cancels the order at its deadline ${iso(records.deadline.due_at)} if no callback comes` : "";
    reasons.push(
      `The payment${payment.provider_payment_id ? ` ${payment.provider_payment_id}` : ""} has been pending at the provider for ${seconds(now.getTime() - payment.created_at.getTime())}: it waits for the provider's callback${deadline}.`,
    );
  }
  const produced = new Set(records.outbox.map((row) => row.event_type));
  const stock = ["StockReserved", "StockRejected"].some((type) => produced.has(type));
  const paid = ["PaymentAuthorized", "PaymentDeclined"].some((type) => produced.has(type));
  if (!stock) reasons.push("It waits for the stock outcome: inventory has not written StockReserved or StockRejected yet.");
  if (!paid && payment?.status !== "PENDING")
    reasons.push("It waits for the payment outcome: payment has not written PaymentAuthorized or PaymentDeclined yet.");
  if (stock && paid) reasons.push("Both outcomes are written; order-state has not decided the order yet.");
  return reasons;
}

function waitingReasons(inputs: TimelineInputs, events: readonly TimelineEvent[]): string[] {
  const { records, now } = inputs;
  if (records.order.status !== "PENDING") return [];
  const unconsumed = events
    .filter((event) => event.publishedAt !== null)
    .flatMap((event) =>
      event.consumers.filter((c) => c.processedAt === null && DECIDING_GROUPS.has(c.group)).map((c) => unconsumedReason(event, c.group, inputs)),
    );
  return [...outboxReasons(records.outbox, now), ...unconsumed, ...outcomeReasons(records, now)];
}

export function buildTimeline(inputs: TimelineInputs): OrderTimeline {
  const { records, trace } = inputs;
  const { order } = records;
  const events = toEvents(records);
  const reasons = waitingReasons(inputs, events);
  return {
    orderId: order.id,
    status: order.status,
    terminal: order.status !== "PENDING",
    customerId: order.customer_id,
    totalMinor: Number(order.total_minor),
    currency: order.currency,
    cancelReason: order.cancel_reason,
    createdAt: iso(order.created_at),
    updatedAt: iso(order.updated_at),
    traceId: inputs.traceId,
    waitingFor: reasons[0] ?? null,
    waitingReasons: reasons,
    events,
    effects: {
      reservations: records.reservations.map((r) => ({
        sku: r.sku,
        quantity: r.quantity,
        status: r.status,
        createdAt: iso(r.created_at),
        updatedAt: iso(r.updated_at),
      })),
      payment: records.payment
        ? {
            providerPaymentId: records.payment.provider_payment_id,
            amountMinor: Number(records.payment.amount_minor),
            currency: records.payment.currency,
            status: records.payment.status,
            declineReason: records.payment.decline_reason,
            createdAt: iso(records.payment.created_at),
            updatedAt: iso(records.payment.updated_at),
          }
        : null,
      notifications: records.notifications.map((n) => ({
        kind: n.kind,
        channel: n.channel,
        status: n.status,
        attempts: n.attempts,
        lastError: n.last_error,
        createdAt: iso(n.created_at),
        sentAt: isoOrNull(n.sent_at),
      })),
      outcome: records.outcome
        ? {
            stockStatus: records.outcome.stock_status,
            stockReason: records.outcome.stock_reason,
            paymentStatus: records.outcome.payment_status,
            paymentReason: records.outcome.payment_reason,
            updatedAt: iso(records.outcome.updated_at),
          }
        : null,
      deadlineAt: isoOrNull(records.deadline?.due_at),
      tombstones: records.tombstones.map((t) => ({ group: t.consumer_group, reason: t.reason, at: iso(t.at) })),
    },
    steps: sortedSteps(records, events, trace),
    trace: {
      found: trace !== undefined,
      spanCount: trace?.spanCount ?? 0,
      services: trace?.services ?? [],
      durationMs: trace?.durationMs ?? null,
      error: inputs.errors.find((e) => e.source === "jaeger")?.message ?? null,
      jaegerUiUrl: inputs.jaegerUiUrl,
    },
    errors: inputs.errors,
  };
}
