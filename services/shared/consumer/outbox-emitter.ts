import { randomUUID } from "node:crypto";
import type { Context } from "@opentelemetry/api";
import type { Prisma } from "../db/index.ts";
import { EVENT_TOPICS, type EventType } from "../events/topic-catalogue.ts";
import { currentTraceparent } from "../telemetry/trace-context.ts";
import type { EmitPayload, HandlerContext, TransactionClient } from "./consumer-handler.ts";

/**
 * ctx.emit: an outbox row in the handler's transaction, so the outgoing event exists if and only if the effect
 * does. The row carries the processing span's traceparent, so the next hop continues this trace.
 */
export function createEmitter(tx: TransactionClient, traceContext: Context): HandlerContext["emit"] {
  return async <E extends EventType>(eventType: E, orderId: string, payload: EmitPayload<E>): Promise<string> => {
    const given = payload as Partial<Record<"event_id" | "occurred_at", unknown>>;
    const eventId = typeof given.event_id === "string" ? given.event_id : randomUUID();
    const occurredAt = typeof given.occurred_at === "number" ? given.occurred_at : Date.now();
    const full = { ...payload, event_id: eventId, order_id: orderId, occurred_at: occurredAt };
    await tx.outbox.create({
      data: {
        topic: EVENT_TOPICS[eventType],
        key: orderId,
        eventType,
        eventId,
        payload: full as unknown as Prisma.InputJsonValue,
        headers: { ...(currentTraceparent(traceContext) ?? {}) },
      },
    });
    return eventId;
  };
}
