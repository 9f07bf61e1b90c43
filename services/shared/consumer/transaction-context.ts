import type { Context } from "@opentelemetry/api";
import type { EventType } from "../events/topic-catalogue.ts";
import { outboxRow, type OutboxRow } from "../outbox/outbox-write.ts";
import type { EmitPayload, HandlerContext } from "./consumer-handler.ts";

/** ctx.emit: queues the row; the runner writes the queue with insertOutboxRows() before its transaction commits. */
export function bufferedEmit(rows: OutboxRow[], traceContext: Context): HandlerContext["emit"] {
  return <E extends EventType>(eventType: E, orderId: string, payload: EmitPayload<E>): Promise<string> => {
    const row = outboxRow(eventType, orderId, payload, traceContext);
    rows.push(row);
    return Promise.resolve(row.eventId);
  };
}
