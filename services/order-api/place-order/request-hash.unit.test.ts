import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../shared/json/canonical-json.ts";
import { parseIdempotencyKey, requestHash } from "./request-hash.ts";

describe("request hash", () => {
  it("ignores key order but not values, method or path", () => {
    const a = { customerId: "c", items: [{ sku: "A", quantity: 1 }], currency: "EUR" };
    const b = { currency: "EUR", items: [{ quantity: 1, sku: "A" }], customerId: "c" };
    expect(canonicalJson(b)).toBe('{"currency":"EUR","customerId":"c","items":[{"quantity":1,"sku":"A"}]}');
    expect(requestHash("POST", "/orders", a)).toBe(requestHash("post", "/orders", b));
    expect(requestHash("POST", "/orders", a)).not.toBe(requestHash("POST", "/orders", { ...a, currency: "USD" }));
    expect(requestHash("POST", "/orders", a)).not.toBe(requestHash("PUT", "/orders", a));
    expect(requestHash("POST", "/orders", a)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("parseIdempotencyKey", () => {
  it("accepts structured-field strings and bare tokens", () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe("8e03978e-40d5-43e8-bc93-6894a57f9324");
    expect(parseIdempotencyKey("abc-123")).toBe("abc-123");
  });

  it.each([[""], ['""'], ["a b"], ["x".repeat(256)], ["é"], [["a", "b"]]])("rejects %j", (value) => {
    expect(() => parseIdempotencyKey(value as string | string[])).toThrow(/Idempotency-Key|one/);
  });
});
