/**
 * fast-check generators of HTTP requests against the order API: mostly wrong, sometimes right, often nearly right
 * (one field off), because the nearly right ones reach the deepest code. Each generates a FuzzRequest that
 * app.inject() sends as is and that prints as the exact request when a property fails.
 */
import fc from "fast-check";
import { signWebhook, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from "../../services/payment/callbacks/webhook-signature.ts";

export interface FuzzRequest {
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  url: string;
  headers: Record<string, string>;
  /** Sent verbatim. */
  payload?: string;
}

/** What the generators draw existing things from (filled in by the test before the run). */
export interface FuzzWorld {
  skus: readonly string[];
  orderIds: readonly string[];
  cursors: readonly string[];
  webhookSecret: string;
}

const json = (value: unknown): string => JSON.stringify(value);

/** Strings that break things: controls, NUL, lone surrogates, RTL marks, SQL and JSON fragments, long runs. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  { weight: 3, arbitrary: fc.constantFrom("\ud800", "x\udfff", "\u0000") },
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\ud800",
    "\u202e",
    "'; DROP TABLE orders; --",
    "%00",
    "null",
    "[]",
    "{}",
    "0",
    "-1",
    "1e309",
    "💥",
    "a".repeat(300),
    "é",
    "\t\n",
  ),
);

export const preferHeader = fc.oneof(
  fc.constantFrom(
    "wait=1",
    "wait=0",
    "WAIT = 1",
    'wait="1"',
    "respond-async, wait=1",
    "wait=999999",
    "wait=1000000",
    "wait=-1",
    "wait=",
    "wait=1.5",
    "return=minimal",
    "wait=1; foo=bar",
  ),
  nasty,
);

export const idempotencyKey = fc.oneof(
  fc.constantFrom("fz-key-1", "fz-key-2", "fz-key-3", '"fz-key-1"', " fz-key-2 "),
  fc.stringMatching(/^fz-[!-~]{0,300}$/),
  nasty,
);

const quantity = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 5 }) },
  fc.integer(),
  fc.constantFrom(0, -1, 1000, 1001, 1.5, 1e300, Number.MAX_SAFE_INTEGER),
  fc.constant("2"),
  fc.constant(null),
);

function orderBodies(world: FuzzWorld): fc.Arbitrary<unknown> {
  const sku = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...world.skus) }, nasty, fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,70}$/));
  const item = fc.oneof({ weight: 8, arbitrary: fc.record({ sku, quantity }) }, fc.record({ sku, quantity, extra: nasty }, { requiredKeys: [] }));
  const fuzzedAddress = fc.record(
    {
      name: fc.oneof(fc.constant("Ada"), nasty),
      line1: fc.oneof(fc.constant("1 Main St"), nasty),
      city: fc.oneof(fc.constant("Paris"), nasty),
      postalCode: fc.oneof(fc.constant("75001"), nasty),
      country: fc.oneof(fc.constant("FR"), nasty),
      region: nasty,
    },
    { requiredKeys: [] },
  );
  const address = fc.oneof(
    { weight: 3, arbitrary: fc.constant({ name: "Ada", line1: "1 Main St", city: "Paris", postalCode: "75001", country: "FR" }) },
    fuzzedAddress,
  );
  const structured = fc
    .record(
      {
        customerId: fc.oneof({ weight: 5, arbitrary: fc.stringMatching(/^fz-[a-z0-9]{1,12}$/) }, nasty),
        currency: fc.oneof({ weight: 5, arbitrary: fc.constant("EUR") }, fc.constantFrom("USD", "eur", "XYZ", "EURO"), nasty),
        items: fc.oneof({ weight: 6, arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }) }, fc.array(item, { maxLength: 60 }), nasty),
        shippingAddress: address,
        extra: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ["customerId", "currency", "items"] },
    )
    .map(({ extra, ...body }) => (Math.abs(json(extra ?? null).length % 5) === 0 ? { ...body, extra } : body));
  return fc.oneof({ weight: 8, arbitrary: structured }, fc.jsonValue({ maxDepth: 3 }));
}

const contentType = fc.oneof(
  { weight: 14, arbitrary: fc.constant("application/json") },
  fc.constantFrom(
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/merge-patch+json",
    "multipart/form-data",
    "APPLICATION/JSON",
    "",
  ),
);

const optional = <T>(arbitrary: fc.Arbitrary<T>, freq = 2): fc.Arbitrary<T | undefined> => fc.option(arbitrary, { freq, nil: undefined });

function headersOf(entries: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** POST /orders: bodies (structured, arbitrary JSON, broken text), content types, Idempotency-Key and Prefer. */
export function postOrderRequests(world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const payload = fc.oneof(
    { weight: 9, arbitrary: orderBodies(world).map(json) },
    fc.string({ maxLength: 60 }),
    fc.constantFrom("", "{", '{"customerId":', "[".repeat(300)),
  );
  return fc
    .record({
      payload,
      type: contentType,
      key: optional(idempotencyKey, 3),
      prefer: optional(preferHeader, 4),
      method: fc.oneof({ weight: 18, arbitrary: fc.constant<FuzzRequest["method"]>("POST") }, fc.constantFrom<FuzzRequest["method"]>("PUT", "PATCH", "DELETE")),
    })
    .map(({ payload, type, key, prefer, method }) => ({
      method,
      url: "/orders",
      headers: headersOf({ "content-type": type, "idempotency-key": key, prefer }),
      payload,
    }));
}

/** ISO times the way clients get them wrong, including year 0000 and extended years (issue 10 #14). */
export const dateTime = fc.oneof(
  { weight: 3, arbitrary: fc.date({ min: new Date("1900-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) => d.toISOString()) },
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "+275760-09-13T00:00:00.000Z",
    "-271821-04-20T00:00:00.000Z",
    "2026-02-30T00:00:00Z",
    "2026-12-02T08:00:00+14:00",
    "2026-12-02",
    "2026-12-02T25:00:00Z",
    "now",
  ),
  nasty,
);

const base64url = (text: string): string => Buffer.from(text, "utf8").toString("base64url");

/** Cursors: real ones, real ones edited, JSON with odd times or ids, and noise. */
function cursors(world: FuzzWorld): fc.Arbitrary<string> {
  const forged = fc
    .record({ t: fc.oneof(dateTime, fc.integer(), fc.constant(null)), id: fc.oneof(fc.uuid(), nasty, fc.constant(null)) }, { requiredKeys: [] })
    .map((value) => base64url(json(value)));
  const real = world.cursors.length > 0 ? [fc.constantFrom(...world.cursors)] : [];
  return fc.oneof(
    ...real,
    forged,
    fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
    nasty,
    fc.jsonValue().map((value) => base64url(json(value))),
  );
}

/** Percent-encodes the UTF-8 bytes (a lone surrogate becomes U+FFFD's bytes; encodeURIComponent would throw). */
function percentEncode(text: string): string {
  return [...Buffer.from(text, "utf8")]
    .map((byte) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`))
    .join("");
}

/** Raw bytes, percent-encoded: also invalid UTF-8, which the query string decoder must survive. */
const rawBytes = fc.uint8Array({ maxLength: 12 }).map((bytes) => [...bytes].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join(""));

function queryString(params: Array<[string, string]>): string {
  return params.map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`).join("&");
}

/** GET /orders: every filter, the limit and the cursor, each valid, nearly valid or noise; repeated parameters too. */
export function listOrderRequests(world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const param = fc.oneof(
    fc.tuple(fc.constant("customerId"), fc.oneof(fc.constant("fz-a"), nasty)),
    fc.tuple(fc.constant("status"), fc.oneof(fc.constantFrom("PENDING", "CONFIRMED", "CANCELLED", "pending"), nasty)),
    fc.tuple(fc.constant("createdFrom"), dateTime),
    fc.tuple(fc.constant("createdTo"), dateTime),
    fc.tuple(fc.constant("limit"), fc.oneof(fc.integer({ min: 1, max: 100 }).map(String), fc.integer().map(String), nasty)),
    fc.tuple(fc.constant("cursor"), cursors(world)),
    fc.tuple(nasty, nasty),
  );
  // One time filter or cursor alone, so an odd time is not hidden behind another parameter's 400.
  const lone = fc.oneof(
    fc.tuple(fc.constantFrom("createdFrom", "createdTo"), dateTime),
    fc.tuple(
      fc.constant("cursor"),
      fc.record({ t: dateTime, id: fc.uuid() }).map((value) => base64url(json(value))),
    ),
  );
  const query = fc.oneof(
    { weight: 7, arbitrary: fc.array(param, { maxLength: 4 }).map(queryString) },
    { weight: 2, arbitrary: lone.map((entry) => queryString([entry])) },
    fc.tuple(fc.constantFrom("cursor", "createdFrom", "limit"), rawBytes).map(([name, bytes]) => `${name}=${bytes}`),
  );
  return query.map((text) => ({ method: "GET" as const, url: text.length > 0 ? `/orders?${text}` : "/orders", headers: {} }));
}

/** GET /orders/{id}: existing ids (with Prefer: wait), random UUIDs, case changes and noise in the path. */
export function getOrderRequests(world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const known = world.orderIds.length > 0 ? [fc.constantFrom(...world.orderIds)] : [];
  const id = fc.oneof(
    ...known,
    fc.uuid(),
    fc.uuid().map((u) => u.toUpperCase()),
    fc.uuid().map((u) => u.replace(/-/g, "")),
    nasty.map(percentEncode),
    rawBytes,
  );
  return fc
    .record({ id, prefer: optional(preferHeader, 3) })
    .map(({ id, prefer }) => ({ method: "GET" as const, url: `/orders/${id}`, headers: headersOf({ prefer }) }));
}

/** POST /payments/webhook: signed right, signed over another body, stale, unsigned, malformed; a small pool of event ids. */
export function webhookRequests(world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const callback = fc.record(
    {
      id: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("fz-evt-1", "fz-evt-2", "fz-evt-3") }, fc.stringMatching(/^fz-evt-[A-Za-z0-9_.:-]{1,20}$/), nasty),
      type: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("payment.authorized", "payment.declined") }, nasty),
      created: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), nasty),
      data: fc.oneof(
        {
          weight: 4,
          arbitrary: fc.record({ payment_id: fc.oneof(fc.constantFrom("fz-pay-1", "fz-pay-2"), nasty), reason: nasty }, { requiredKeys: ["payment_id"] }),
        },
        fc.jsonValue({ maxDepth: 2 }),
      ),
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof({ weight: 6, arbitrary: callback.map(json) }, fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 2 }).map(json));
  const signing = fc.constantFrom("signed", "signed", "signed", "other-body", "stale", "future", "unsigned", "garbage", "no-timestamp");
  return fc.record({ body, signing, type: contentType }).map(({ body, signing, type }) => {
    const now = Math.floor(Date.now() / 1000);
    const at = signing === "stale" ? now - 3600 : signing === "future" ? now + 3600 : now;
    const signature = signing === "garbage" ? "v1=deadbeef" : signWebhook(world.webhookSecret, at, signing === "other-body" ? `${body} ` : body);
    const headers = headersOf({
      "content-type": type,
      [WEBHOOK_TIMESTAMP_HEADER]: signing === "unsigned" || signing === "no-timestamp" ? undefined : String(at),
      [WEBHOOK_SIGNATURE_HEADER]: signing === "unsigned" ? undefined : signature,
    });
    return { method: "POST" as const, url: "/payments/webhook", headers, payload: body };
  });
}

/** The same few valid bodies under the same few keys, sometimes twice at once: replays, 422 mismatches, 409 in flight. */
export function idempotentRequests(world: FuzzWorld): fc.Arbitrary<{ request: FuzzRequest; concurrent: boolean }> {
  const body = fc
    .constantFrom(...world.skus.slice(0, 3))
    .chain((sku) =>
      fc.record({ customerId: fc.constantFrom("fz-idem-1", "fz-idem-2"), currency: fc.constant("EUR"), items: fc.constant([{ sku, quantity: 1 }]) }),
    );
  return fc.record({ body, key: idempotencyKey, prefer: optional(preferHeader, 6), concurrent: fc.boolean() }).map(({ body, key, prefer, concurrent }) => ({
    concurrent,
    request: {
      method: "POST" as const,
      url: "/orders",
      headers: headersOf({ "content-type": "application/json", "idempotency-key": key, prefer }),
      payload: json(body),
    },
  }));
}
