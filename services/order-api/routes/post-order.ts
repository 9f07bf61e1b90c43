import type { FastifyInstance, FastifyReply } from "fastify";
import { placeOrder, type PlaceOrderOptions, type PlacedOrder } from "../place-order/place-order.ts";
import { claimIdempotencyKey, releaseIdempotencyKey, type StoredResponse } from "../place-order/idempotency-store.ts";
import { parseIdempotencyKey, requestHash } from "../place-order/request-hash.ts";
import { placedOrderSchema, placeOrderBodySchema, problemResponses, type PlaceOrderInput } from "./order-schemas.ts";

export interface PostOrderRouteOptions {
  placeOrder: PlaceOrderOptions;
  idempotencyTtlSeconds: number;
}

function sendPlaced(reply: FastifyReply, placed: PlacedOrder): FastifyReply {
  reply.log.info({ order_id: placed.body.orderId, total_minor: placed.body.totalMinor, currency: placed.body.currency }, "order accepted");
  return reply.code(placed.status).header("location", placed.location).send(placed.body);
}

function sendReplay(reply: FastifyReply, stored: StoredResponse): FastifyReply {
  reply.log.info({ order_id: (stored.body as { orderId?: unknown } | null)?.orderId, idempotency_replayed: true }, "idempotent replay");
  for (const [name, value] of Object.entries(stored.headers)) reply.header(name, value);
  return reply.code(stored.status).header("idempotency-replayed", "true").send(stored.body);
}

/** An abandoned in-flight claim can be taken over once the transaction that held it must have ended. */
function inFlightLeaseMs(options: PlaceOrderOptions): number {
  return Math.max(30_000, 2 * (options.transactionTimeoutMs + options.transactionMaxWaitMs));
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
          "(Idempotency-Replayed: true), with another body answers 422, while the first is still running 409.",
        headers: { type: "object", properties: { "idempotency-key": { type: "string", maxLength: 300 } } },
        body: placeOrderBodySchema,
        response: { 201: { description: "Order accepted (PENDING)", ...placedOrderSchema }, ...problemResponses(400, 409, 413, 415, 422, 503) },
      },
    },
    async (request, reply) => {
      const key = parseIdempotencyKey(request.headers["idempotency-key"]);
      if (key === undefined) return sendPlaced(reply, await placeOrder(options.placeOrder, request.body));

      const hash = requestHash("POST", "/orders", request.body);
      const claim = await claimIdempotencyKey(options.placeOrder.prisma, {
        key,
        requestHash: hash,
        ttlSeconds: options.idempotencyTtlSeconds,
        inFlightLeaseMs: inFlightLeaseMs(options.placeOrder),
      });
      if (claim.kind === "replay") return sendReplay(reply, claim.response);
      try {
        return sendPlaced(reply, await placeOrder(options.placeOrder, request.body, { key, requestHash: hash }));
      } catch (error) {
        // Free the key so a retry can succeed; if the database is gone, the lease frees it later.
        await releaseIdempotencyKey(options.placeOrder.prisma, key, hash).catch((releaseError: unknown) =>
          request.log.warn({ err: releaseError, idempotencyKey: key }, "could not release idempotency key"),
        );
        throw error;
      }
    },
  );
}
