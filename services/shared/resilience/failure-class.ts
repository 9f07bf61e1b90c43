/**
 * The one failure taxonomy, used by the API, the relay and the consumer runner alike:
 *
 * - "outage": a dependency (PostgreSQL, the schema registry, the payment provider, Kafka) is unavailable or too
 *   slow. The work is fine and will succeed later: the runner pauses the partition with backoff and never
 *   dead-letters; the API answers 503 + Retry-After.
 * - "retryable": this attempt lost a race (serialization failure, deadlock, lock not available) or failed for a
 *   reason a retry may cure (TransientError, an unexpected error). Retried a bounded number of times, then the
 *   message is dead-lettered (it may be the message after all).
 * - "message": the message or request itself is wrong (undecodable, invalid, refers to nothing; any CodedError
 *   with canRetry false). Dead-lettered at once; the API answers its 4xx.
 */
import { connectionFailureCode, DatabaseUnavailableError } from "../db/database-errors.ts";
import { CodedError } from "../errors/coded-error.ts";
import { DependencyUnavailableError } from "../errors/dependency-errors.ts";

export type FailureClass = "outage" | "retryable" | "message";

// Prisma's "transaction could not start / expired in time" (P2028): the pool or the server is overloaded.
const PRISMA_OUTAGE_CODES = new Set(["P2028"]);
// SQLSTATEs of a lost race: serialization_failure, deadlock_detected, lock_not_available.
const RETRYABLE_SQLSTATES = new Set(["40001", "40P01", "55P03"]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The failure code that marks `error` as an outage, or undefined. */
export function outageCode(error: unknown): string | undefined {
  if (error instanceof DependencyUnavailableError || error instanceof DatabaseUnavailableError) return error.code;
  const code = codeOf(error);
  if (code !== undefined && PRISMA_OUTAGE_CODES.has(code)) return code;
  return connectionFailureCode(error);
}

export function classifyFailure(error: unknown): FailureClass {
  if (outageCode(error) !== undefined) return "outage";
  if (error instanceof CodedError) return error.canRetry ? "retryable" : "message";
  const code = codeOf(error);
  if (code !== undefined && RETRYABLE_SQLSTATES.has(code)) return "retryable";
  return "retryable";
}
