/**
 * Tells "nothing was written" from "we do not know". The accept is one statement in its own implicit transaction:
 * a failure to get a connection means it was never sent; a server error answering it (an SQLSTATE) means it rolled
 * back. But when the connection breaks once the statement was sent, the server may have committed: the client must
 * not be told "nothing was written" (a retry without a key would place a second order) but that the outcome is
 * unknown and to retry with the same key.
 */
import type pg from "pg";
import { executorOf, type SqlExecutor } from "../../shared/db/sql.ts";
import { OrderOutcomeUnknownError } from "../order-errors.ts";

/** Seconds to suggest before the retry that finds out (the database may need a moment to come back). */
export const OUTCOME_UNKNOWN_RETRY_AFTER_SECONDS = 2;

/** A PostgreSQL error with an SQLSTATE outside connection exceptions (08) and operator intervention (57). */
function serverRolledBack(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57)/.test(code);
}

/**
 * The statement never reached a live session, so it cannot have committed: the socket refused the write (the
 * extended protocol's Sync, which ends the implicit transaction, is the last message, so a failed write means the
 * server never got it), or pg already knew the connection was broken and sent nothing. Typically a pooled
 * connection the server (or a proxy) dropped a moment before it was handed out.
 */
function neverSent(error: unknown): boolean {
  const failure = error as { syscall?: unknown; message?: unknown } | null;
  if (failure?.syscall === "write") return true;
  return typeof failure?.message === "string" && /is not queryable/i.test(failure.message);
}

/**
 * Runs the accept statement on a connection of its own (no BEGIN/COMMIT: the statement is the transaction), with a
 * broken connection once it was sent turned into OrderOutcomeUnknownError. A connection that failed is destroyed,
 * not returned to the pool.
 */
export async function runAcceptStatement<T>(pool: pg.Pool, work: (db: SqlExecutor) => Promise<T>): Promise<T> {
  const client = await pool.connect(); // fails: nothing was sent, the caller's outage error says so
  let broken: Error | undefined;
  try {
    return await work(executorOf(client));
  } catch (error) {
    if (serverRolledBack(error)) throw error;
    broken = error instanceof Error ? error : new Error(String(error));
    if (neverSent(error)) throw error; // the caller's outage error: nothing was written
    throw new OrderOutcomeUnknownError({
      detail:
        "The connection to the database broke while the order was being written: the outcome is unknown; retry with the same Idempotency-Key to find out (it answers the order if it was placed, or places it once).",
      extensions: { retryAfterSeconds: OUTCOME_UNKNOWN_RETRY_AFTER_SECONDS },
      cause: error,
    });
  } finally {
    client.release(broken);
  }
}
