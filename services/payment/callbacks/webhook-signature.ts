/**
 * Provider webhook signatures: HMAC-SHA256 over `${timestamp}.${rawBody}` with the shared secret, hex encoded,
 * sent as `Webhook-Signature: v1=<hex>` beside `Webhook-Timestamp: <unix seconds>`. Signing the timestamp with the
 * body lets the receiver refuse old deliveries (replay window) without trusting an unsigned header.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp";
export const WEBHOOK_SIGNATURE_HEADER = "webhook-signature";
const SCHEME = "v1";

export function signWebhook(secret: string, timestampSeconds: number, rawBody: string): string {
  const digest = createHmac("sha256", secret).update(`${timestampSeconds}.${rawBody}`).digest("hex");
  return `${SCHEME}=${digest}`;
}

/** Headers a provider sends with `rawBody` (what the simulated provider and the tests use). */
export function webhookHeaders(secret: string, rawBody: string, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    "content-type": "application/json",
    [WEBHOOK_TIMESTAMP_HEADER]: String(nowSeconds),
    [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, nowSeconds, rawBody),
  };
}

export type SignatureCheck = { ok: true; timestampSeconds: number } | { ok: false; reason: string };

export interface VerifyInput {
  secret: string;
  toleranceSeconds: number;
  rawBody: string;
  timestampHeader: string | undefined;
  signatureHeader: string | undefined;
  nowSeconds?: number;
}

/** Pure check of one delivery; several `v1=` values (comma separated, e.g. during secret rotation) are accepted. */
export function verifyWebhookSignature(input: VerifyInput): SignatureCheck {
  const { timestampHeader, signatureHeader } = input;
  if (!timestampHeader || !/^\d{1,12}$/.test(timestampHeader)) return { ok: false, reason: "missing or malformed Webhook-Timestamp" };
  if (!signatureHeader) return { ok: false, reason: "missing Webhook-Signature" };
  const timestampSeconds = Number(timestampHeader);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestampSeconds) > input.toleranceSeconds) {
    return { ok: false, reason: `timestamp outside the ${input.toleranceSeconds} s tolerance` };
  }
  const expected = Buffer.from(signWebhook(input.secret, timestampSeconds, input.rawBody));
  const candidates = signatureHeader.split(",").map((part) => Buffer.from(part.trim()));
  const matches = candidates.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected));
  return matches ? { ok: true, timestampSeconds } : { ok: false, reason: "signature does not match" };
}
