/**
 * The one way to write outbox rows: the API's accept path and every consumer build rows with outboxRow() and
 * write them with insertOutboxRows() inside the transaction that holds their effect, so an event exists if and
 * only if its effect does. The relay (services/outbox-relay) is the only reader that publishes them.
 */
import { randomUUID } from "node:crypto";
import type { Context } from "@opentelemetry/api";
import { sql, type SqlExecutor, type SqlQuery } from "../db/sql.ts";
import type { EventPayloads } from "../events/event-payloads.ts";
import { EVENT_TOPICS, type EventType } from "../events/topic-catalogue.ts";
import { currentTraceparent } from "../telemetry/trace-context.ts";

/** Fields outboxRow() fills in itself; a payload may still set them (e.g. a deterministic event_id). */
type CommonFields = "event_id" | "order_id" | "occurred_at";
export type OutboxPayload<E extends EventType> = Omit<EventPayloads[E], CommonFields> & Partial<Pick<EventPayloads[E], CommonFields>>;

export interface OutboxRow {
  topic: string;
  key: string;
  eventType: EventType;
  eventId: string;
  payload: Record<string, unknown>;
  headers: Record<string, string>;
}

/**
 * An outbox row for `eventType` keyed by the order id: logical topic from EVENT_TOPICS, event_id (uuid v4 unless
 * given), order_id and occurred_at (now, epoch ms unless given) added to the payload, headers = the W3C trace
 * context of `traceContext`, so the next hop continues the trace.
 */
export function outboxRow<E extends EventType>(eventType: E, orderId: string, payload: OutboxPayload<E>, traceContext?: Context): OutboxRow {
  const given = payload as Partial<Record<"event_id" | "occurred_at", unknown>>;
  const eventId = typeof given.event_id === "string" ? given.event_id : randomUUID();
  const occurredAt = typeof given.occurred_at === "number" ? given.occurred_at : Date.now();
  return {
    topic: EVENT_TOPICS[eventType],
    key: orderId,
    eventType,
    eventId,
    payload: { ...payload, event_id: eventId, order_id: orderId, occurred_at: occurredAt },
    headers: { ...(currentTraceparent(traceContext) ?? {}) },
  };
}

/**
 * The INSERT of `rows`, in array order (ids ascend in that order: the relay keeps it per key). As a statement of its
 * own (insertOutboxRows), or spliced into a data-modifying CTE (the accept statement) with `onlyIf`, a condition on
 * the CTE's other parts (e.g. that the order was written), so the event exists if and only if its effect does.
 */
export function outboxInsert(rows: readonly OutboxRow[], onlyIf: SqlQuery = sql`true`): SqlQuery {
  return sql`
    INSERT INTO outbox (topic, key, event_type, event_id, payload, headers)
    SELECT topic, key, event_type, event_id, payload, headers
      FROM unnest(${rows.map((r) => r.topic)}::text[], ${rows.map((r) => r.key)}::text[], ${rows.map((r) => r.eventType)}::text[],
                  ${rows.map((r) => r.eventId)}::uuid[], ${rows.map((r) => JSON.stringify(r.payload))}::jsonb[],
                  ${rows.map((r) => JSON.stringify(r.headers))}::jsonb[])
           WITH ORDINALITY AS r(topic, key, event_type, event_id, payload, headers, n)
     WHERE ${onlyIf}
     ORDER BY n`;
}

/** Writes every row in one statement, inside the caller's transaction. */
export async function insertOutboxRows(db: SqlExecutor, rows: readonly OutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(outboxInsert(rows));
}
