import type { AuthorizeRequest } from "./payment-gateway.ts";

/** How the simulated provider decides, configurable so tests and demos can produce each outcome on purpose. */
export interface DeclineRules {
  /** Amounts above this (minor units) are declined. */
  declineAboveMinor: number;
  /** Test customers whose id starts with this are always declined (like a provider's test card numbers). */
  declineCustomerPrefix: string;
  /** Test customers whose id starts with this get "pending": the outcome arrives later through the webhook. */
  pendingCustomerPrefix: string;
}

export type Decision = { outcome: "authorized" } | { outcome: "declined"; reason: string } | { outcome: "pending" };

/** Pure: the same request always gets the same decision. */
export function decide(rules: DeclineRules, request: Pick<AuthorizeRequest, "customerId" | "amountMinor">): Decision {
  if (request.customerId.startsWith(rules.declineCustomerPrefix)) return { outcome: "declined", reason: "card_declined" };
  if (request.amountMinor > rules.declineAboveMinor) return { outcome: "declined", reason: "amount_limit_exceeded" };
  if (request.customerId.startsWith(rules.pendingCustomerPrefix)) return { outcome: "pending" };
  return { outcome: "authorized" };
}
