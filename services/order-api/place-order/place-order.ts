import { randomUUID } from "node:crypto";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import type { Prisma, PrismaClient } from "../../shared/db/index.ts";
import { ValidationError } from "../../shared/errors/http-errors.ts";
import { currentTraceparent } from "../../shared/telemetry/trace-context.ts";
import type { PlaceOrderInput, ShippingAddressInput } from "../routes/order-schemas.ts";
import { completeIdempotencyKey, type StoredResponse } from "./idempotency-store.ts";
import { checkCurrency, findDuplicateSkus, priceOrder, type CatalogueProduct, type PricedLine } from "./price-order.ts";

/** Logical topic of order events; the relay applies TOPIC_PREFIX. */
export const ORDERS_TOPIC = "orders";
export const ORDER_PLACED = "OrderPlaced";

/**
 * Seams for tests that prove atomicity: called inside the transaction, a throwing hook must leave no trace.
 * Production passes none.
 */
export interface PlaceOrderHooks {
  afterOrderInsert?: (tx: Prisma.TransactionClient, orderId: string) => Promise<void>;
  afterOutboxInsert?: (tx: Prisma.TransactionClient, orderId: string) => Promise<void>;
}

export interface PlaceOrderOptions {
  prisma: PrismaClient;
  /** Longest the transaction may run before Prisma rolls it back. */
  transactionTimeoutMs: number;
  /** Longest to wait for a pooled connection to start the transaction. */
  transactionMaxWaitMs: number;
  hooks?: PlaceOrderHooks;
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

export interface PlacedOrder {
  status: 201;
  body: PlacedOrderBody;
  location: string;
}

/** The OrderPlaced event exactly as the Avro record orderflow.events.OrderPlaced (snake_case field names). */
export interface OrderPlacedPayload {
  event_id: string;
  order_id: string;
  occurred_at: number;
  customer_id: string;
  currency: string;
  total_minor: number;
  items: { sku: string; quantity: number; unit_price_minor: number }[];
  shipping_address: string | null;
}

const tracer = trace.getTracer("order-api");

async function loadCatalogue(prisma: PrismaClient, skus: string[]): Promise<Map<string, CatalogueProduct>> {
  const products = await prisma.product.findMany({
    where: { sku: { in: skus } },
    select: { sku: true, priceMinor: true, currency: true, active: true },
  });
  return new Map(products.map((product) => [product.sku, product]));
}

/** Validates against the catalogue; prices come from it, never from the client. */
async function priceAgainstCatalogue(prisma: PrismaClient, input: PlaceOrderInput): Promise<{ lines: PricedLine[]; totalMinor: number }> {
  // Cheap checks first: a request that fails them never costs a query.
  const early = [...checkCurrency(input.currency), ...findDuplicateSkus(input.items)];
  if (early.length > 0) throw new ValidationError({ detail: "The order cannot be placed", errors: early });
  const catalogue = await loadCatalogue(prisma, input.items.map((item) => item.sku));
  const priced = priceOrder(input.items, input.currency, catalogue);
  if (!priced.ok) throw new ValidationError({ detail: "The order cannot be placed", errors: priced.problems });
  return priced;
}

export function orderPlacedPayload(body: PlacedOrderBody, eventId: string, shippingAddress: ShippingAddressInput | undefined): OrderPlacedPayload {
  return {
    event_id: eventId,
    order_id: body.orderId,
    occurred_at: Date.parse(body.createdAt),
    customer_id: body.customerId,
    currency: body.currency,
    total_minor: body.totalMinor,
    items: body.items.map((line) => ({ sku: line.sku, quantity: line.quantity, unit_price_minor: line.unitPriceMinor })),
    shipping_address: shippingAddress ? JSON.stringify(shippingAddress) : null,
  };
}

/**
 * The order, its lines and its first status in ONE statement (data-modifying CTEs; foreign keys are checked at
 * the end of the statement): one round trip instead of Prisma's four for the nested create, which is most of
 * the accept path's latency. Returns the order's created_at.
 */
async function insertOrderRows(
  tx: Prisma.TransactionClient,
  orderId: string,
  input: PlaceOrderInput,
  priced: { lines: PricedLine[]; totalMinor: number },
): Promise<Date> {
  const lines = JSON.stringify(priced.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unit_price_minor: line.unitPriceMinor, line_total_minor: line.lineTotalMinor })));
  const address = input.shippingAddress ? JSON.stringify(input.shippingAddress) : null;
  const rows = await tx.$queryRaw<{ created_at: Date }[]>`
    WITH new_order AS (
      INSERT INTO orders (id, customer_id, status, currency, total_minor, shipping_address)
      VALUES (${orderId}::uuid, ${input.customerId}, 'PENDING', ${input.currency}, ${priced.totalMinor}, ${address}::jsonb)
      RETURNING created_at
    ), new_items AS (
      INSERT INTO order_items (order_id, sku, quantity, unit_price_minor, line_total_minor)
      SELECT ${orderId}::uuid, line.sku, line.quantity, line.unit_price_minor, line.line_total_minor
      FROM jsonb_to_recordset(${lines}::jsonb) AS line(sku text, quantity int, unit_price_minor bigint, line_total_minor bigint)
    ), first_status AS (
      INSERT INTO order_status_history (order_id, status, reason) VALUES (${orderId}::uuid, 'PENDING', 'accepted')
    )
    SELECT created_at FROM new_order`;
  const createdAt = rows[0]?.created_at;
  if (!(createdAt instanceof Date)) throw new Error("order insert returned no created_at");
  return createdAt;
}

interface WriteCommand {
  input: PlaceOrderInput;
  priced: { lines: PricedLine[]; totalMinor: number };
  idempotency: { key: string; requestHash: string } | undefined;
}

/** Order, lines, first status, OrderPlaced outbox row and the idempotency record: all or nothing. */
async function writeOrder(options: PlaceOrderOptions, command: WriteCommand): Promise<PlacedOrder> {
  const { input, priced } = command;
  const orderId = randomUUID();
  return options.prisma.$transaction(
    async (tx) => {
      const createdAt = await insertOrderRows(tx, orderId, input, priced);
      await options.hooks?.afterOrderInsert?.(tx, orderId);

      const body: PlacedOrderBody = {
        orderId,
        status: "PENDING",
        customerId: input.customerId,
        currency: input.currency,
        totalMinor: priced.totalMinor,
        items: priced.lines,
        createdAt: createdAt.toISOString(),
      };
      const eventId = randomUUID();
      // Captured now, inside the request's span: the relay and consumers continue this trace from the row.
      const traceHeaders = currentTraceparent() ?? {};
      await tx.outbox.create({
        data: {
          topic: ORDERS_TOPIC,
          key: orderId,
          eventType: ORDER_PLACED,
          eventId,
          payload: orderPlacedPayload(body, eventId, input.shippingAddress) as unknown as Prisma.InputJsonValue,
          headers: { ...traceHeaders },
        },
      });
      await options.hooks?.afterOutboxInsert?.(tx, orderId);

      const placed: PlacedOrder = { status: 201, body, location: `/orders/${orderId}` };
      if (command.idempotency) {
        const stored: StoredResponse = { status: placed.status, body: body as unknown as Prisma.InputJsonValue, headers: { location: placed.location } };
        await completeIdempotencyKey(tx, command.idempotency.key, command.idempotency.requestHash, stored);
      }
      return placed;
    },
    { timeout: options.transactionTimeoutMs, maxWait: options.transactionMaxWaitMs },
  );
}

/** Validates, prices and writes an order in one transaction, inside a span so the outbox row carries its trace. */
export async function placeOrder(
  options: PlaceOrderOptions,
  input: PlaceOrderInput,
  idempotency?: { key: string; requestHash: string },
): Promise<PlacedOrder> {
  return tracer.startActiveSpan("place order", async (span) => {
    try {
      const priced = await priceAgainstCatalogue(options.prisma, input);
      const placed = await writeOrder(options, { input, priced, idempotency });
      span.setAttribute("order.id", placed.body.orderId);
      return placed;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
