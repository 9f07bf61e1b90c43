import { defineError } from "../shared/errors/coded-error.ts";

/** Problems specific to the order API; generic ones (404, 415, ...) live in shared/errors/http-errors.ts. */
export const OrderNotFoundError = defineError({ code: "ORDER_NOT_FOUND", status: 404, title: "Order not found" });
export const IdempotencyKeyInvalidError = defineError({ code: "IDEMPOTENCY_KEY_INVALID", status: 400, title: "Idempotency-Key header is invalid" });
export const IdempotencyKeyReusedError = defineError({
  code: "IDEMPOTENCY_KEY_REUSED",
  status: 422,
  title: "Idempotency-Key was already used for a different request",
});
export const IdempotencyKeyInFlightError = defineError({
  code: "IDEMPOTENCY_KEY_IN_FLIGHT",
  status: 409,
  title: "A request with this Idempotency-Key is still being processed",
  canRetry: true,
});
export const InvalidCursorError = defineError({ code: "INVALID_CURSOR", status: 400, title: "The pagination cursor is invalid" });
/**
 * The connection to the database broke while COMMIT was under way: the order may or may not exist. Only a retry
 * with the same Idempotency-Key can tell (it replays the order if it was committed, or places it once if not).
 */
export const OrderOutcomeUnknownError = defineError({
  code: "ORDER_OUTCOME_UNKNOWN",
  status: 503,
  title: "The outcome of the order is unknown",
  canRetry: true,
});
