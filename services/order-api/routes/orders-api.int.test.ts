import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../shared/db/index.ts";
import {
  cleanTestRows,
  orderBody,
  prepareTestDatabase,
  testApp,
  testConfig,
  testPrisma,
  TEST_PREFIX,
} from "../../../test/support/order-api/order-api-harness.ts";

// The accept path must never need Kafka: the app is configured with a broker address where nothing listens.
const CLOSED_KAFKA = "127.0.0.1:1";

let prisma: PrismaClient;
let app: FastifyInstance;

beforeAll(async () => {
  prisma = testPrisma();
  await prepareTestDatabase(prisma);
  app = await testApp({ prisma, config: testConfig({ KAFKA_BROKERS: CLOSED_KAFKA, SCHEMA_REGISTRY_URL: "http://127.0.0.1:1/apis/ccompat/v7" }) });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await prisma?.$disconnect();
});

beforeEach(async () => cleanTestRows(prisma));

async function post(body: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: "POST", url: "/orders", payload: body as object, headers: { "content-type": "application/json", ...headers } });
}

describe("POST /orders", () => {
  it("accepts an order with catalogue prices while Kafka is unreachable, leaving the OrderPlaced outbox row waiting", async () => {
    const response = await post({ ...orderBody(), shippingAddress: { name: "Zoë", line1: "1 Rue", city: "Paris", postalCode: "75001", country: "FR" } });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(response.headers.location).toBe(`/orders/${body.orderId}`);
    expect(body).toMatchObject({
      status: "PENDING",
      currency: "EUR",
      totalMinor: 2 * 1999 + 500,
      items: [
        { sku: "OA-T-WIDGET", quantity: 2, unitPriceMinor: 1999, lineTotalMinor: 3998 },
        { sku: "OA-T-GADGET", quantity: 1, unitPriceMinor: 500, lineTotalMinor: 500 },
      ],
    });

    const outbox = await prisma.outbox.findMany({ where: { key: body.orderId } });
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ topic: "orders", eventType: "OrderPlaced", publishedAt: null });
    expect(outbox[0]?.payload).toEqual({
      event_id: outbox[0]?.eventId,
      order_id: body.orderId,
      occurred_at: Date.parse(body.createdAt),
      customer_id: `${TEST_PREFIX}customer`,
      currency: "EUR",
      total_minor: 4498,
      items: [
        { sku: "OA-T-WIDGET", quantity: 2, unit_price_minor: 1999 },
        { sku: "OA-T-GADGET", quantity: 1, unit_price_minor: 500 },
      ],
      shipping_address: JSON.stringify({ name: "Zoë", line1: "1 Rue", city: "Paris", postalCode: "75001", country: "FR" }),
    });

    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.headers["content-type"]).toContain("application/health+json");
    expect(ready.json()).toMatchObject({
      status: "warn",
      checks: {
        "database:responseTime": [{ status: "pass" }],
        "kafka:connectivity": [{ status: "warn" }],
        "schema-registry:connectivity": [{ status: "warn" }],
      },
    });
  });
});

describe("GET /orders/:id", () => {
  it("returns the order with items, totals and status history", async () => {
    const placed = (await post(orderBody())).json();
    const response = await app.inject({ method: "GET", url: `/orders/${placed.orderId}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      orderId: placed.orderId,
      status: "PENDING",
      totalMinor: 4498,
      shippingAddress: null,
      items: [{ sku: "OA-T-GADGET" }, { sku: "OA-T-WIDGET" }],
      statusHistory: [{ status: "PENDING", reason: "accepted" }],
    });
  });

  it("answers 404 problem for an unknown id and 400 for a non-uuid", async () => {
    const missing = await app.inject({ method: "GET", url: "/orders/00000000-0000-4000-8000-000000000000" });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-type"]).toContain("application/problem+json");
    expect(missing.json()).toMatchObject({ status: 404, code: "ORDER_NOT_FOUND" });
    const bad = await app.inject({ method: "GET", url: "/orders/not-a-uuid" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ status: 400, errors: [{ parameter: "id" }] });
  });
});

describe("GET /orders", () => {
  it("pages through filtered orders newest first with an opaque cursor", async () => {
    const customerId = `${TEST_PREFIX}pager`;
    const placed: string[] = [];
    for (let i = 0; i < 5; i++) placed.push((await post(orderBody({ customerId }))).json().orderId);
    await post(orderBody({ customerId: `${TEST_PREFIX}other` }));

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const query: string = `customerId=${customerId}&status=PENDING&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const response = await app.inject({ method: "GET", url: `/orders?${query}` });
      expect(response.statusCode).toBe(200);
      const body = response.json() as { items: { orderId: string; customerId: string }[]; nextCursor: string | null };
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((item) => item.orderId));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(placed));

    const future = await app.inject({ method: "GET", url: `/orders?customerId=${customerId}&createdFrom=2999-01-01T00:00:00Z` });
    expect(future.json()).toEqual({ items: [], nextCursor: null });
    const badCursor = await app.inject({ method: "GET", url: "/orders?cursor=abc" });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().code).toBe("INVALID_CURSOR");
    const tooMany = await app.inject({ method: "GET", url: "/orders?limit=101" });
    expect(tooMany.statusCode).toBe(400);
  });
});

describe("HTTP surface", () => {
  it("answers 404 and 405 (with Allow) as problem+json, serves /livez and the OpenAPI document", async () => {
    const unknown = await app.inject({ method: "GET", url: "/nope" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers["content-type"]).toContain("application/problem+json");
    const wrongMethod = await app.inject({ method: "DELETE", url: "/orders/00000000-0000-4000-8000-000000000000" });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toContain("GET");
    expect(wrongMethod.json().code).toBe("METHOD_NOT_ALLOWED");

    const live = await app.inject({ method: "GET", url: "/livez" });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toMatchObject({ status: "pass" });

    const openapi = await app.inject({ method: "GET", url: "/docs/json" });
    expect(openapi.statusCode).toBe(200);
    const document = openapi.json();
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/orders", "/orders/{id}", "/readyz", "/livez"]));
    expect(document.paths["/orders"].post.requestBody.content["application/json"].schema.required).toEqual(["customerId", "items", "currency"]);
    const ui = await app.inject({ method: "GET", url: "/docs" });
    expect([200, 302]).toContain(ui.statusCode);
  });
});
