import { createHash } from "node:crypto";
import { canonicalJson } from "../../shared/json/canonical-json.ts";
import { IdempotencyKeyInvalidError } from "../order-errors.ts";

/** SHA-256 (hex) over method, path and canonical body: the same key on another endpoint is another request. */
export function requestHash(method: string, path: string, body: unknown): string {
  return createHash("sha256")
    .update(`${method.toUpperCase()} ${path}\n${canonicalJson(body)}`)
    .digest("hex");
}

const KEY_CHARS = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/;

/**
 * The Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header): a structured-field string, so
 * `"abc"`; bare tokens are accepted too because many clients send them. Undefined when absent.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) {
    throw new IdempotencyKeyInvalidError({ detail: "send exactly one Idempotency-Key header", errors: [{ header: "Idempotency-Key", detail: "repeated" }] });
  }
  const trimmed = header.trim();
  const unquoted = trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
  if (!KEY_CHARS.test(unquoted)) {
    throw new IdempotencyKeyInvalidError({
      detail: "Idempotency-Key must be 1 to 255 visible ASCII characters without quotes or backslashes",
      errors: [{ header: "Idempotency-Key", detail: "invalid value" }],
    });
  }
  return unquoted;
}
