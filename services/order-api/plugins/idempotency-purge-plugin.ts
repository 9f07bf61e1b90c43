/** Expired idempotency keys are treated as absent at claim time anyway; this keeps the table from growing without bound. */
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { executorOf } from "../../shared/db/sql.ts";
import { purgeExpiredIdempotencyKeys } from "../place-order/idempotency-store.ts";

const IDEMPOTENCY_PURGE_INTERVAL_MS = 60_000;

export async function idempotencyPurgePlugin(scope: FastifyInstance, options: { pool: pg.Pool }): Promise<void> {
  const db = executorOf(options.pool);
  const timer = setInterval(() => {
    purgeExpiredIdempotencyKeys(db)
      .then((count) => count > 0 && scope.log.info({ count }, "purged expired idempotency keys"))
      .catch((error: unknown) => scope.log.warn({ err: error }, "idempotency key purge failed"));
  }, IDEMPOTENCY_PURGE_INTERVAL_MS);
  timer.unref();
  scope.addHook("onClose", async () => clearInterval(timer));
}
