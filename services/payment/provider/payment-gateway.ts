/**
 * What the payment service needs from a payment provider. Every call carries an idempotency key derived from the
 * order (authorize:<order id>, void:<order id>): the provider answers a repeated key with the first answer, so a
 * redelivered event can never charge twice, even when our process died between the call and its commit.
 */

export interface AuthorizeRequest {
  idempotencyKey: string;
  orderId: string;
  customerId: string;
  amountMinor: number;
  /** ISO-4217. */
  currency: string;
}

export type AuthorizeResult =
  | { outcome: "authorized"; providerPaymentId: string }
  | { outcome: "declined"; providerPaymentId: string; reason: string }
  /** Decided later: the provider calls POST /payments/webhook with the outcome. */
  | { outcome: "pending"; providerPaymentId: string };

export interface VoidRequest {
  idempotencyKey: string;
  providerPaymentId: string;
}

export type VoidResult = { outcome: "voided"; providerPaymentId: string };

export interface PaymentGateway {
  authorize(request: AuthorizeRequest): Promise<AuthorizeResult>;
  void(request: VoidRequest): Promise<VoidResult>;
}

/** Idempotency keys: one authorization and at most one void per order, whichever event or retry asks. */
export function authorizeKey(orderId: string): string {
  return `authorize:${orderId}`;
}

export function voidKey(orderId: string): string {
  return `void:${orderId}`;
}
