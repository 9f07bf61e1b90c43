/**
 * Overload protection. Every database-using request needs a pooled connection. When the requests already waiting
 * for one would, by the pool's recent pace, take longer than API_SHED_QUEUE_WAIT_MS to be served, a new request is
 * answered 503 + Retry-After at once instead of queueing until the connect timeout (every client would wait seconds
 * and many would time out anyway), and also once API_SHED_MAX_WAITING requests wait, whatever the pace. A burst the
 * pool drains in time is not shed. Nothing has been
 * written for a shed request, so no accepted order is lost; admission resumes as soon as the queue shrinks.
 */
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { OverloadedError } from "../../shared/errors/http-errors.ts";

export const OVERLOAD_RETRY_AFTER_SECONDS = 1;

/**
 * Routes that never touch the database are never shed: health, metrics, docs, the live page's files, and the
 * console's event stream (its samples are read once per period by the sampler, whoever listens; an overload is
 * when an operator needs it most).
 */
const NEVER_SHED = /^\/(livez|readyz|metrics|docs|live-page)(\/|$)|^\/$|^\/monitor\/console\/stream$/;
/** Weight of the newest observation in the moving average of how long a request holds a connection. */
const EWMA_WEIGHT = 0.05;
const INITIAL_HOLD_MS = 5;

/** How long requests hold a connection (moving average), and whether the queue is too long for the budget. */
export class PoolAdmission {
  private holdMs = INITIAL_HOLD_MS;

  constructor(
    private readonly pool: Pick<pg.Pool, "waitingCount">,
    private readonly limits: { poolSize: number; queueWaitBudgetMs: number; maxWaiting: number },
  ) {}

  /** Records how long a request held its connection. */
  observe(heldMs: number): void {
    this.holdMs += EWMA_WEIGHT * (heldMs - this.holdMs);
  }

  /** Expected wait of a request that joins the queue now. */
  projectedWaitMs(): number {
    return (this.pool.waitingCount * this.holdMs) / this.limits.poolSize;
  }

  /**
   * The cap catches a burst (it arrives before any pace is known); the projection catches a sustained overload at
   * any size. A queue shorter than the pool is served within one round: the projection never sheds it.
   */
  shouldShed(): boolean {
    const { poolSize, queueWaitBudgetMs, maxWaiting } = this.limits;
    const waiting = this.pool.waitingCount;
    if (maxWaiting > 0 && waiting >= maxWaiting) return true;
    return queueWaitBudgetMs > 0 && waiting >= poolSize && this.projectedWaitMs() > queueWaitBudgetMs;
  }
}

export function registerLoadShedding(app: FastifyInstance, admission: PoolAdmission): void {
  app.addHook("onRequest", async (request) => {
    if (!admission.shouldShed()) return;
    const route = request.routeOptions.url;
    if (route === undefined || NEVER_SHED.test(route)) return;
    throw new OverloadedError({
      detail: "Too many requests are waiting for the database; retry shortly. Nothing was written.",
      extensions: { retryAfterSeconds: OVERLOAD_RETRY_AFTER_SECONDS },
      context: { projectedWaitMs: Math.round(admission.projectedWaitMs()) },
    });
  });
}
