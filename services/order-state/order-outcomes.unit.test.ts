import { describe, expect, it } from "vitest";
import { decide, type OrderOutcomes } from "./order-outcomes.ts";

const none: OrderOutcomes = { stockStatus: null, stockReason: null, paymentStatus: null, paymentReason: null };

describe("decide", () => {
  it("waits until both outcomes are in when neither failed", () => {
    expect(decide(none)).toEqual({ kind: "wait" });
    expect(decide({ ...none, stockStatus: "RESERVED" })).toEqual({ kind: "wait" });
    expect(decide({ ...none, paymentStatus: "AUTHORIZED" })).toEqual({ kind: "wait" });
  });
  it("confirms when stock is reserved and payment authorized", () => {
    expect(decide({ ...none, stockStatus: "RESERVED", paymentStatus: "AUTHORIZED" })).toEqual({ kind: "confirm" });
  });
  it("cancels on the first failure without waiting for the other outcome, with its reason", () => {
    expect(decide({ ...none, stockStatus: "REJECTED", stockReason: "insufficient stock for A" })).toEqual({
      kind: "cancel",
      reason: "stock rejected: insufficient stock for A",
    });
    expect(decide({ ...none, paymentStatus: "DECLINED", paymentReason: "card declined" })).toEqual({
      kind: "cancel",
      reason: "payment declined: card declined",
    });
    expect(decide({ ...none, stockStatus: "RESERVED", paymentStatus: "DECLINED", paymentReason: "limit" })).toEqual({
      kind: "cancel",
      reason: "payment declined: limit",
    });
  });
});
