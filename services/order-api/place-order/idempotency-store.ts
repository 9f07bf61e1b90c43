/**
 * Idempotency-Key records. The claim is part of the order's own statement (accept-write.ts): the key row is
 * inserted COMPLETED, with the answer, in the transaction that writes the order, so the key is taken if and only
 * if the order commits. That is the fence: there is no separate in-flight claim that a slow original could still
 * complete after a retry took it over. A concurrent request with the same key waits on the key's row lock inside
 * PostgreSQL until the first commits (then replays it) or rolls back (then places the order itself).
 *
 * Rows of the old two-step protocol (status in_flight) are still honoured: a young one answers 409, one older than
 * the lease is taken over by the order statement itself.
 */
import { sql, type SqlExecutor } from "../../shared/db/sql.ts";
import { IdempotencyKeyInFlightError, IdempotencyKeyReusedError } from "../order-errors.ts";

/** The first answer to a key, replayed verbatim for a retry with the same request. */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface IdempotencyClaim {
  key: string;
  requestHash: string;
  /** The key's record lives until then (IDEMPOTENCY_KEY_TTL_SECONDS). */
  expiresAt: Date;
  /** An in_flight row (old protocol) created before this is abandoned and may be taken over. */
  abandonedBefore: Date;
}

interface KeyRow {
  request_hash: string;
  status: "in_flight" | "completed";
  response_status: number | null;
  response_body: unknown;
  response_headers: Record<string, string> | null;
  expires_at: Date;
}

/**
 * What a request gets when its order statement found the key taken: the stored answer to replay, or an error
 * (another body: 422; an old-protocol claim still running: 409). Undefined when the row is gone or expired since
 * (the caller retries the order statement).
 */
export async function existingAnswer(db: SqlExecutor, claim: IdempotencyClaim, now: Date): Promise<StoredResponse | undefined> {
  const [row] = await db.rows<KeyRow>(
    sql`SELECT request_hash, status, response_status, response_body, response_headers, expires_at FROM idempotency_keys WHERE key = ${claim.key}`,
  );
  if (!row || row.expires_at <= now) return undefined;
  if (row.request_hash !== claim.requestHash) {
    throw new IdempotencyKeyReusedError({
      detail: "This Idempotency-Key was first used with another request body; use a new key",
      context: { idempotencyKey: claim.key },
    });
  }
  if (row.status === "completed") return { status: row.response_status ?? 200, body: row.response_body ?? null, headers: row.response_headers ?? {} };
  throw new IdempotencyKeyInFlightError({
    detail: "The first request with this Idempotency-Key has not finished; retry later",
    context: { idempotencyKey: claim.key },
  });
}

/** Deletes expired keys; returns how many. */
export async function purgeExpiredIdempotencyKeys(db: SqlExecutor, now = new Date()): Promise<number> {
  return db.execute(sql`DELETE FROM idempotency_keys WHERE expires_at <= ${now}::timestamptz`);
}
