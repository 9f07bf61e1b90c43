import type { FastifyInstance, InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../shared/db/index.ts";
import { createHmac } from "node:crypto";
import {
  cleanTestRows,
  countRows,
  orderBody,
  prepareTestDatabase,
  testApp,
  testConfig,
  testPrisma,
  TEST_PREFIX,
  type RowCounts,
} from "../../../test/support/order-api/order-api-harness.ts";
import { MAX_ORDER_LINES } from "./order-schemas.ts";

interface BadInput {
  name: string;
  /** A string is sent verbatim (for malformed JSON); anything else as JSON. */
  payload?: unknown;
  contentType?: string | null;
  method?: "POST" | "PUT" | "PATCH" | "DELETE";
  headers?: Record<string, string>;
  status: number;
  /** A JSON pointer the problem's `errors` must name. */
  pointer?: string;
}

const item = (overrides: Record<string, unknown>) => orderBody({ items: [{ sku: "OA-T-WIDGET", quantity: 1, ...overrides }] });
const json = (value: unknown) => JSON.stringify(value);
const validJson = json(orderBody());

const cases: BadInput[] = [
  // Not JSON at all, or JSON that is not an object
  { name: "truncated JSON", payload: '{"customerId":', status: 400 },
  { name: "trailing comma", payload: '{"customerId":"x",}', status: 400 },
  { name: "single quotes", payload: "{'customerId':'x'}", status: 400 },
  { name: "empty body", payload: "", status: 400 },
  { name: "null body", payload: "null", status: 422 },
  { name: "array as body", payload: json([orderBody()]), status: 422 },
  { name: "string as body", payload: '"order"', status: 422 },
  { name: "number as body", payload: "42", status: 422 },
  { name: "boolean as body", payload: "true", status: 422 },
  { name: "deeply nested arrays", payload: "[".repeat(5000) + "]".repeat(5000), status: 422 },
  // Prototype poisoning
  {
    name: "__proto__ key at top level",
    payload: '{"__proto__":{"admin":true},"customerId":"oa-test-x","currency":"EUR","items":[{"sku":"OA-T-WIDGET","quantity":1}]}',
    status: 400,
  },
  {
    name: "__proto__ key in an item",
    payload: '{"customerId":"oa-test-x","currency":"EUR","items":[{"sku":"OA-T-WIDGET","quantity":1,"__proto__":{"x":1}}]}',
    status: 400,
  },
  {
    name: "constructor.prototype key",
    payload: '{"constructor":{"prototype":{"x":1}},"customerId":"oa-test-x","currency":"EUR","items":[{"sku":"OA-T-WIDGET","quantity":1}]}',
    status: 400,
  },
  // Content type, size, method
  { name: "text/plain content type", payload: validJson, contentType: "text/plain", status: 415 },
  { name: "XML content type", payload: "<order/>", contentType: "application/xml", status: 415 },
  { name: "form content type", payload: "customerId=x", contentType: "application/x-www-form-urlencoded", status: 415 },
  { name: "no content type", payload: validJson, contentType: null, status: 415 },
  { name: "oversized body", payload: json(orderBody({ customerId: "x".repeat(70_000) })), status: 413 },
  { name: "PUT on /orders", method: "PUT", payload: validJson, status: 405 },
  { name: "DELETE on /orders", method: "DELETE", status: 405 },
  // Missing and extra members
  { name: "missing customerId", payload: json({ currency: "EUR", items: [{ sku: "OA-T-WIDGET", quantity: 1 }] }), status: 422, pointer: "/customerId" },
  { name: "missing items", payload: json({ customerId: `${TEST_PREFIX}c`, currency: "EUR" }), status: 422, pointer: "/items" },
  {
    name: "missing currency",
    payload: json({ customerId: `${TEST_PREFIX}c`, items: [{ sku: "OA-T-WIDGET", quantity: 1 }] }),
    status: 422,
    pointer: "/currency",
  },
  { name: "missing quantity", payload: json(orderBody({ items: [{ sku: "OA-T-WIDGET" }] })), status: 422, pointer: "/items/0/quantity" },
  { name: "extra top-level field", payload: json(orderBody({ totalMinor: 1 })), status: 422, pointer: "/totalMinor" },
  { name: "client-supplied unit price", payload: json(item({ unitPriceMinor: 1 })), status: 422, pointer: "/items/0/unitPriceMinor" },
  // Items
  { name: "empty items", payload: json(orderBody({ items: [] })), status: 422, pointer: "/items" },
  {
    name: "too many items",
    payload: json(orderBody({ items: Array.from({ length: MAX_ORDER_LINES + 1 }, (_, i) => ({ sku: `OA-T-${i}`, quantity: 1 })) })),
    status: 422,
    pointer: "/items",
  },
  { name: "items is an object", payload: json(orderBody({ items: { sku: "OA-T-WIDGET", quantity: 1 } })), status: 422, pointer: "/items" },
  { name: "item is a string", payload: json(orderBody({ items: ["OA-T-WIDGET"] })), status: 422, pointer: "/items/0" },
  { name: "zero quantity", payload: json(item({ quantity: 0 })), status: 422, pointer: "/items/0/quantity" },
  { name: "negative quantity", payload: json(item({ quantity: -1 })), status: 422, pointer: "/items/0/quantity" },
  { name: "quantity above the limit", payload: json(item({ quantity: 1001 })), status: 422, pointer: "/items/0/quantity" },
  {
    name: "huge quantity",
    payload: '{"customerId":"oa-test-x","currency":"EUR","items":[{"sku":"OA-T-WIDGET","quantity":1e300}]}',
    status: 422,
    pointer: "/items/0/quantity",
  },
  { name: "fractional quantity", payload: json(item({ quantity: 1.5 })), status: 422, pointer: "/items/0/quantity" },
  { name: "quantity as a string", payload: json(item({ quantity: "2" })), status: 422, pointer: "/items/0/quantity" },
  { name: "null quantity", payload: json(item({ quantity: null })), status: 422, pointer: "/items/0/quantity" },
  { name: "sku as a number", payload: json(item({ sku: 123 })), status: 422, pointer: "/items/0/sku" },
  { name: "empty sku", payload: json(item({ sku: "" })), status: 422, pointer: "/items/0/sku" },
  { name: "overlong sku", payload: json(item({ sku: "S".repeat(65) })), status: 422, pointer: "/items/0/sku" },
  { name: "emoji sku", payload: json(item({ sku: "📦" })), status: 422, pointer: "/items/0/sku" },
  { name: "unknown sku", payload: json(item({ sku: "OA-T-DOES-NOT-EXIST" })), status: 422, pointer: "/items/0/sku" },
  { name: "inactive sku", payload: json(item({ sku: "OA-T-RETIRED" })), status: 422, pointer: "/items/0/sku" },
  {
    name: "duplicate skus",
    payload: json(
      orderBody({
        items: [
          { sku: "OA-T-WIDGET", quantity: 1 },
          { sku: "OA-T-WIDGET", quantity: 2 },
        ],
      }),
    ),
    status: 422,
    pointer: "/items/1/sku",
  },
  {
    name: "currency mismatch with the product",
    payload: json(
      orderBody({
        items: [
          { sku: "OA-T-WIDGET", quantity: 1 },
          { sku: "OA-T-DOLLAR", quantity: 1 },
        ],
      }),
    ),
    status: 422,
    pointer: "/items/1/sku",
  },
  // Currency
  { name: "lower-case currency", payload: json(orderBody({ currency: "eur" })), status: 422, pointer: "/currency" },
  { name: "four-letter currency", payload: json(orderBody({ currency: "EURO" })), status: 422, pointer: "/currency" },
  { name: "unknown ISO-4217 code", payload: json(orderBody({ currency: "XYZ" })), status: 422, pointer: "/currency" },
  { name: "numeric currency", payload: json(orderBody({ currency: 978 })), status: 422, pointer: "/currency" },
  // Customer id and unicode
  { name: "empty customerId", payload: json(orderBody({ customerId: "" })), status: 422, pointer: "/customerId" },
  { name: "overlong customerId", payload: json(orderBody({ customerId: TEST_PREFIX + "x".repeat(100) })), status: 422, pointer: "/customerId" },
  { name: "numeric customerId", payload: json(orderBody({ customerId: 42 })), status: 422, pointer: "/customerId" },
  { name: "NUL character in customerId", payload: json(orderBody({ customerId: `${TEST_PREFIX}a\u0000b` })), status: 422, pointer: "/customerId" },
  {
    name: "lone surrogate in customerId",
    payload: '{"customerId":"oa-test-\\ud800","currency":"EUR","items":[{"sku":"OA-T-WIDGET","quantity":1}]}',
    status: 422,
    pointer: "/customerId",
  },
  {
    name: "right-to-left override and newline in customerId",
    payload: json(orderBody({ customerId: `${TEST_PREFIX}\u202e\n` })),
    status: 422,
    pointer: "/customerId",
  },
  { name: "whitespace-padded customerId", payload: json(orderBody({ customerId: ` ${TEST_PREFIX}c ` })), status: 422, pointer: "/customerId" },
  // Shipping address
  { name: "shipping address as a string", payload: json(orderBody({ shippingAddress: "1 Main St" })), status: 422, pointer: "/shippingAddress" },
  {
    name: "shipping address missing city",
    payload: json(orderBody({ shippingAddress: { name: "A", line1: "B", postalCode: "1", country: "FR" } })),
    status: 422,
    pointer: "/shippingAddress/city",
  },
  {
    name: "shipping address with extra field",
    payload: json(orderBody({ shippingAddress: { name: "A", line1: "B", city: "C", postalCode: "1", country: "FR", gps: "x" } })),
    status: 422,
    pointer: "/shippingAddress/gps",
  },
  {
    name: "shipping country not ISO-3166",
    payload: json(orderBody({ shippingAddress: { name: "A", line1: "B", city: "C", postalCode: "1", country: "France" } })),
    status: 422,
    pointer: "/shippingAddress/country",
  },
  // Headers
  { name: "Idempotency-Key with a space", payload: validJson, headers: { "idempotency-key": "oa-test- bad key" }, status: 400 },
  { name: "Idempotency-Key too long", payload: validJson, headers: { "idempotency-key": `${TEST_PREFIX}${"k".repeat(280)}` }, status: 400 },
];

let prisma: PrismaClient;
let app: FastifyInstance;

beforeAll(async () => {
  prisma = testPrisma();
  await prepareTestDatabase(prisma);
  await cleanTestRows(prisma);
  app = await testApp({ prisma });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await prisma?.$disconnect();
});

function request(testCase: BadInput, index: number): InjectOptions {
  const headers: Record<string, string> = { "idempotency-key": `${TEST_PREFIX}bad-${index}`, ...testCase.headers };
  if (testCase.contentType !== null) headers["content-type"] = testCase.contentType ?? "application/json";
  const payload = testCase.payload === undefined ? undefined : typeof testCase.payload === "string" ? testCase.payload : JSON.stringify(testCase.payload);
  return { method: testCase.method ?? "POST", url: "/orders", headers, ...(payload === undefined ? {} : { payload }) };
}

describe("bad input to POST /orders", () => {
  it("has at least 40 cases", () => expect(cases.length).toBeGreaterThanOrEqual(40));

  it.each(cases.map((testCase, index) => [testCase.name, testCase, index] as const))(
    "%s -> 4xx problem+json, nothing written",
    async (_name, testCase, index) => {
      const before: RowCounts = await countRows(prisma);
      const response = await app.inject(request(testCase, index));

      expect(response.statusCode).toBe(testCase.status);
      expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
      const problem = response.json();
      expect(problem).toMatchObject({
        status: testCase.status,
        type: expect.stringMatching(/^urn:orderflow:problem:/),
        title: expect.any(String),
        code: expect.any(String),
      });
      expect(response.body).not.toMatch(/"stack"|\bat .+\.(?:ts|js):\d+/);
      if (testCase.pointer) expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: testCase.pointer })]));

      expect(await countRows(prisma)).toEqual(before);
    },
  );
});

/** A cursor as the API encodes it, with any timestamp text: clients can forge one. */
const cursorAt = (t: string) => Buffer.from(JSON.stringify({ t, id: "0b6e3c1e-8f4a-4d8e-9a51-7f0c2f1c9d11" }), "utf8").toString("base64url");

const badQueries: Array<{ name: string; query: string; parameter: string }> = [
  { name: "createdFrom in year 0000", query: "createdFrom=0000-01-01T00:00:00Z", parameter: "createdFrom" },
  { name: "createdTo in year 0000", query: "createdTo=0000-06-01T00:00:00.000Z", parameter: "createdTo" },
  { name: "createdFrom with an extended year", query: `createdFrom=${encodeURIComponent("+010000-01-01T00:00:00Z")}`, parameter: "createdFrom" },
  { name: "createdTo with a negative extended year", query: `createdTo=${encodeURIComponent("-000001-01-01T00:00:00Z")}`, parameter: "createdTo" },
  { name: "createdFrom past the year 9999", query: "createdFrom=9999-12-31T23:59:60Z", parameter: "createdFrom" },
  { name: "cursor in year 0000", query: `cursor=${cursorAt("0000-01-01T00:00:00.000Z")}`, parameter: "cursor" },
  { name: "cursor with an extended year", query: `cursor=${cursorAt("+010000-01-01T00:00:00.000Z")}`, parameter: "cursor" },
  { name: "cursor with a negative year", query: `cursor=${cursorAt("-000001-01-01T00:00:00.000Z")}`, parameter: "cursor" },
  { name: "cursor with a date-only timestamp", query: `cursor=${cursorAt("2026-01-01")}`, parameter: "cursor" },
];

describe("bad query strings and cursors on GET /orders", () => {
  it.each(badQueries.map((testCase) => [testCase.name, testCase] as const))("%s -> 400 problem+json", async (_name, testCase) => {
    const response = await app.inject({ method: "GET", url: `/orders?${testCase.query}` });
    expect(response.statusCode).toBe(400);
    expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(response.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ parameter: expect.stringContaining(testCase.parameter) })]));
  });
});

/** Headers the payment provider signs a webhook with (HMAC-SHA256 over `${timestamp}.${body}`). */
function providerHeaders(secret: string, rawBody: string): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  return { "webhook-timestamp": String(timestamp), "webhook-signature": `v1=${createHmac("sha256", secret).update(`${timestamp}.${rawBody}`).digest("hex")}` };
}

// Shrunk counterexamples of the fuzz tier (test/fuzz), kept as regressions.
describe("fuzz regressions", () => {
  it("a URL that does not decode (/orders/%80) -> 400 problem+json", async () => {
    const response = await app.inject({ method: "GET", url: "/orders/%80" });
    expect(response.statusCode).toBe(400);
    expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
  });

  it("a signed webhook whose JSON holds a lone surrogate (jsonb cannot store it) -> 400 problem+json, nothing stored", async () => {
    const before = await countRows(prisma);
    const callbacks = await prisma.paymentCallback.count();
    const rawBody = '{"id":"fz-evt-1","type":"payment.authorized","created":0,"data":{"payment_id":"1e309","reason":"\\ud800"}}';
    const response = await app.inject({
      method: "POST",
      url: "/payments/webhook",
      payload: rawBody,
      headers: { "content-type": "application/json", ...providerHeaders(testConfig().PAYMENT_WEBHOOK_SECRET, rawBody) },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(await countRows(prisma)).toEqual(before);
    expect(await prisma.paymentCallback.count()).toBe(callbacks);
  });
});
