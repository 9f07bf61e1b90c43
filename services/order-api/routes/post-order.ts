import type { FastifyInstance, FastifyReply } from "fastify";
import { placeOrder, type PlaceOrderOptions } from "../place-order/place-order.ts";
import type { StoredResponse } from "../place-order/idempotency-store.ts";
import { parseIdempotencyKey, requestHash } from "../place-order/request-hash.ts";
import { placedOrderSchema, placeOrderBodySchema, type PlaceOrderInput } from "./order-schemas.ts";
import { problemResponses } from "../../shared/errors/problem-schema.ts";

export interface PostOrderRouteOptions {
  placeOrder: PlaceOrderOptions;
  idempotencyTtlSeconds: number;
  /** A claim of the old two-step protocol (in_flight row) older than this is abandoned and taken over. */
  abandonedClaimAfterMs: number;
}

function sendReplay(reply: FastifyReply, stored: StoredResponse): FastifyReply {
  for (const [name, value] of Object.entries(stored.headers)) reply.header(name, value);
  return reply.code(stored.status).header("idempotency-replayed", "true").send(stored.body);
}

export function registerPostOrder(app: FastifyInstance, options: PostOrderRouteOptions): void {
  app.post<{ Body: PlaceOrderInput }>(
    "/orders",
    {
      schema: {
        tags: ["orders"],
        summary: "Place an order",
        description:
          "Prices come from the catalogue. Send an Idempotency-Key to retry safely: the same key with the same body replays the first answer " +
          "(Idempotency-Replayed: true), with another body answers 422; a request with a key still being placed waits for it. A 503 with code " +
          "ORDER_OUTCOME_UNKNOWN means the connection broke during the commit: retry with the same key to learn the outcome.",
        headers: { type: "object", properties: { "idempotency-key": { type: "string", maxLength: 300 } } },
        body: placeOrderBodySchema,
        response: { 201: { description: "Order accepted (PENDING)", ...placedOrderSchema }, ...problemResponses(400, 401, 409, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const key = parseIdempotencyKey(request.headers["idempotency-key"]);
      const idempotency =
        key === undefined
          ? undefined
          : {
              key,
              requestHash: requestHash("POST", "/orders", request.body),
              ttlSeconds: options.idempotencyTtlSeconds,
              abandonedAfterMs: options.abandonedClaimAfterMs,
            };
      const outcome = await placeOrder(options.placeOrder, request.body, idempotency);
      if (outcome.kind === "replay") return sendReplay(reply, outcome.response);
      return reply.code(201).header("location", outcome.location).send(outcome.body);
    },
  );
}
