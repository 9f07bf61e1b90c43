import { randomUUID } from "node:crypto";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import type pg from "pg";
import { ValidationError } from "../../shared/errors/http-errors.ts";
import { outboxRow } from "../../shared/outbox/outbox-write.ts";
import type { PlaceOrderInput } from "../routes/order-schemas.ts";
import { executorOf } from "../../shared/db/sql.ts";
import { writeAcceptedOrder, type OrderRows } from "./accept-write.ts";
import type { CatalogueCache } from "./catalogue-cache.ts";
import { runAcceptStatement } from "./commit-outcome.ts";
import { existingAnswer, type IdempotencyClaim, type StoredResponse } from "./idempotency-store.ts";
import { checkCurrency, findDuplicateSkus, priceOrder, type PricedLine } from "./price-order.ts";

export interface PlaceOrderOptions {
  pool: pg.Pool;
  catalogue: CatalogueCache;
  /** How long the accept held its connection (the statement's round trip), for load shedding. */
  onConnectionHeld?: (ms: number) => void;
}

export interface PlacedOrderBody {
  orderId: string;
  status: "PENDING";
  customerId: string;
  currency: string;
  totalMinor: number;
  items: PricedLine[];
  createdAt: string;
}

export type AcceptOutcome = { kind: "placed"; body: PlacedOrderBody; location: string } | { kind: "replay"; response: StoredResponse };

/** The key claimed in the order's transaction: an expired record or a lapsed old-protocol claim counts as free. */
export interface IdempotencyRequest {
  key: string;
  requestHash: string;
  ttlSeconds: number;
  abandonedAfterMs: number;
}

// A key row can vanish (expiry, purge) between the statement that found it and the read: then place again, bounded.
const MAX_ACCEPT_PASSES = 3;
const tracer = trace.getTracer("order-api");

/** Validates against the catalogue; prices come from it, never from the client. */
async function priceAgainstCatalogue(catalogue: CatalogueCache, input: PlaceOrderInput): Promise<{ lines: PricedLine[]; totalMinor: number }> {
  // Cheap checks first: a request that fails them never reaches the catalogue.
  const early = [...checkCurrency(input.currency), ...findDuplicateSkus(input.items)];
  if (early.length > 0) throw new ValidationError({ detail: "The order cannot be placed", errors: early });
  const priced = priceOrder(input.items, input.currency, await catalogue.lookup(input.items.map((item) => item.sku)));
  if (!priced.ok) throw new ValidationError({ detail: "The order cannot be placed", errors: priced.problems });
  return priced;
}

function orderPlacedRow(order: OrderRows) {
  return outboxRow("OrderPlaced", order.orderId, {
    occurred_at: order.createdAt.getTime(),
    customer_id: order.customerId,
    currency: order.currency,
    total_minor: order.totalMinor,
    items: order.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unit_price_minor: line.unitPriceMinor })),
    shipping_address: order.shippingAddress,
  });
}

function claimOf(request: IdempotencyRequest, now: Date): IdempotencyClaim {
  return {
    key: request.key,
    requestHash: request.requestHash,
    expiresAt: new Date(now.getTime() + request.ttlSeconds * 1000),
    abandonedBefore: new Date(now.getTime() - request.abandonedAfterMs),
  };
}

/** One attempt: writes the order, or finds the key's earlier answer (undefined: the key vanished meanwhile). */
async function attempt(
  options: PlaceOrderOptions,
  input: PlaceOrderInput,
  priced: { lines: PricedLine[]; totalMinor: number },
  idempotency?: IdempotencyRequest,
): Promise<AcceptOutcome | undefined> {
  const createdAt = new Date();
  const order: OrderRows = {
    orderId: randomUUID(),
    customerId: input.customerId,
    currency: input.currency,
    totalMinor: priced.totalMinor,
    shippingAddress: input.shippingAddress ? JSON.stringify(input.shippingAddress) : null,
    createdAt,
    lines: priced.lines,
  };
  const body: PlacedOrderBody = {
    orderId: order.orderId,
    status: "PENDING",
    customerId: order.customerId,
    currency: order.currency,
    totalMinor: order.totalMinor,
    items: priced.lines,
    createdAt: createdAt.toISOString(),
  };
  const location = `/orders/${order.orderId}`;
  const claim = idempotency ? claimOf(idempotency, createdAt) : undefined;
  let heldFrom = performance.now();
  const placed = await runAcceptStatement(options.pool, (db) => {
    heldFrom = performance.now(); // from the connection on: the pool wait is not the accept's own cost
    return writeAcceptedOrder(db, {
      order,
      outbox: orderPlacedRow(order),
      idempotency: claim ? { claim, answer: { body, headers: { location } } } : undefined,
    });
  });
  options.onConnectionHeld?.(performance.now() - heldFrom);
  if (placed) return { kind: "placed" as const, body, location };
  // The key was taken: its first answer (read after the statement, which waited for the key's writer to finish).
  const response = claim ? await existingAnswer(executorOf(options.pool), claim, createdAt) : undefined;
  return response ? { kind: "replay" as const, response } : undefined;
}

/** Validates, prices and writes an order (or replays the key's first answer), inside a span so the outbox row carries its trace. */
export async function placeOrder(options: PlaceOrderOptions, input: PlaceOrderInput, idempotency?: IdempotencyRequest): Promise<AcceptOutcome> {
  return tracer.startActiveSpan("place order", async (span) => {
    try {
      const priced = await priceAgainstCatalogue(options.catalogue, input);
      for (let pass = 0; pass < MAX_ACCEPT_PASSES; pass++) {
        const outcome = await attempt(options, input, priced, idempotency);
        if (outcome) {
          if (outcome.kind === "placed") span.setAttribute("order.id", outcome.body.orderId);
          return outcome;
        }
      }
      throw new Error("the Idempotency-Key row kept changing under the order statement");
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
