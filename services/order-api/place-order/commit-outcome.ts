/**
 * Tells "nothing was written" from "we do not know". An error before COMMIT was sent rolls the transaction back;
 * a server error answering COMMIT (an SQLSTATE) also means it rolled back. But when the connection breaks while
 * COMMIT is under way, the server may have committed: the client must not be told "nothing was written" (a retry
 * without a key would place a second order) but that the outcome is unknown and to retry with the same key.
 */
import type pg from "pg";
import { inTransaction, type SqlExecutor } from "../../shared/db/sql.ts";
import { OrderOutcomeUnknownError } from "../order-errors.ts";

/** Seconds to suggest before the retry that finds out (the database may need a moment to come back). */
export const OUTCOME_UNKNOWN_RETRY_AFTER_SECONDS = 2;

/** A PostgreSQL error with an SQLSTATE outside connection exceptions (08) and operator intervention (57). */
function serverRolledBack(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57)/.test(code);
}

/** inTransaction, with a failure of COMMIT itself (not of the work) turned into OrderOutcomeUnknownError. */
export async function inOrderTransaction<T>(pool: pg.Pool, work: (db: SqlExecutor) => Promise<T>): Promise<T> {
  let workDone = false;
  try {
    return await inTransaction(pool, async (db) => {
      const result = await work(db);
      workDone = true;
      return result;
    });
  } catch (error) {
    if (!workDone || serverRolledBack(error)) throw error;
    throw new OrderOutcomeUnknownError({
      detail:
        "The connection to the database broke while the order was being committed: the outcome is unknown; retry with the same Idempotency-Key to find out (it answers the order if it was placed, or places it once).",
      extensions: { retryAfterSeconds: OUTCOME_UNKNOWN_RETRY_AFTER_SECONDS },
      cause: error,
    });
  }
}
