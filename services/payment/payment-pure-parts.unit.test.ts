import { describe, expect, it } from "vitest";
import { parseProviderCallback } from "./callbacks/provider-callback.ts";
import { signWebhook, verifyWebhookSignature, webhookHeaders } from "./callbacks/webhook-signature.ts";
import { decide } from "./provider/decline-rules.ts";
import { providerPaymentIdFor } from "./provider/simulated-provider.ts";

const rules = { declineAboveMinor: 10_000, declineCustomerPrefix: "decline-", pendingCustomerPrefix: "pending-" };
const secret = "a-test-secret-of-some-length";

describe("decline rules", () => {
  it("authorizes ordinary amounts, declines test customers and amounts over the limit, defers pending customers", () => {
    expect(decide(rules, { customerId: "alice", amountMinor: 10_000 })).toEqual({ outcome: "authorized" });
    expect(decide(rules, { customerId: "alice", amountMinor: 10_001 })).toEqual({ outcome: "declined", reason: "amount_limit_exceeded" });
    expect(decide(rules, { customerId: "decline-bob", amountMinor: 1 })).toEqual({ outcome: "declined", reason: "card_declined" });
    expect(decide(rules, { customerId: "pending-carol", amountMinor: 1 })).toEqual({ outcome: "pending" });
  });

  it("derives one provider payment id per idempotency key", () => {
    expect(providerPaymentIdFor("authorize:1")).toBe(providerPaymentIdFor("authorize:1"));
    expect(providerPaymentIdFor("authorize:1")).not.toBe(providerPaymentIdFor("authorize:2"));
  });
});

describe("webhook signatures", () => {
  const body = JSON.stringify({ id: "evt_1" });
  const now = 1_800_000_000;
  const verify = (overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
    verifyWebhookSignature({
      secret,
      toleranceSeconds: 300,
      rawBody: body,
      timestampHeader: String(now),
      signatureHeader: signWebhook(secret, now, body),
      nowSeconds: now,
      ...overrides,
    });

  it("accepts a fresh, correctly signed delivery (also among several signatures)", () => {
    expect(verify({}).ok).toBe(true);
    expect(verify({ signatureHeader: `v1=${"0".repeat(64)}, ${signWebhook(secret, now, body)}` }).ok).toBe(true);
    expect(webhookHeaders(secret, body, now)["webhook-signature"]).toBe(signWebhook(secret, now, body));
  });

  it("refuses another secret, a changed body, a moved timestamp, stale or future deliveries and absent headers", () => {
    expect(verify({ signatureHeader: signWebhook("another-secret-of-length", now, body) }).ok).toBe(false);
    expect(verify({ rawBody: `${body} ` }).ok).toBe(false);
    expect(verify({ timestampHeader: String(now - 1) }).ok).toBe(false);
    expect(verify({ nowSeconds: now + 301 })).toEqual({ ok: false, reason: "timestamp outside the 300 s tolerance" });
    expect(verify({ nowSeconds: now - 301 }).ok).toBe(false);
    expect(verify({ timestampHeader: undefined }).ok).toBe(false);
    expect(verify({ signatureHeader: undefined }).ok).toBe(false);
    expect(verify({ timestampHeader: "12abc" }).ok).toBe(false);
  });
});

describe("provider callback body", () => {
  it("accepts the documented shape and names each bad field", () => {
    const good = { id: "evt_1", type: "payment.authorized", created: 1, data: { payment_id: "sim_pay_1" } };
    expect(parseProviderCallback(good).ok).toBe(true);
    const bad = parseProviderCallback({ id: "", type: "payment.refunded", created: "x", data: { payment_id: 5 } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.map((p) => p.pointer)).toEqual(["/id", "/type", "/created", "/data/payment_id"]);
    expect(parseProviderCallback([1]).ok).toBe(false);
  });
});
