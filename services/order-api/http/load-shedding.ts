/**
 * Overload protection. Every database-using request needs a pooled connection; when the pool is busy and this many
 * requests already wait for one, a new request is answered 503 + Retry-After at once instead of queueing until
 * the connect timeout (which would make every client wait seconds and time out). Nothing has been written then,
 * so no accepted order is lost; as soon as the queue shrinks, requests are admitted again.
 */
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { OverloadedError } from "../../shared/errors/http-errors.ts";

export const OVERLOAD_RETRY_AFTER_SECONDS = 1;

/** Routes that never touch the database: health, metrics, docs and the live page's files are never shed. */
const NEVER_SHED = /^\/(livez|readyz|metrics|docs|live-page)(\/|$)|^\/$/;

export function registerLoadShedding(app: FastifyInstance, pool: pg.Pool, maxWaiting: number): void {
  if (maxWaiting <= 0) return;
  app.addHook("onRequest", async (request) => {
    if (pool.waitingCount < maxWaiting) return;
    const route = request.routeOptions.url;
    if (route === undefined || NEVER_SHED.test(route)) return;
    throw new OverloadedError({
      detail: "Too many requests are waiting for the database; retry shortly. Nothing was written.",
      extensions: { retryAfterSeconds: OVERLOAD_RETRY_AFTER_SECONDS },
      context: { waiting: pool.waitingCount, poolSize: pool.totalCount },
    });
  });
}
