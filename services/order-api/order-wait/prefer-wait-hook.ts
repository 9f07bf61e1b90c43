import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { OrderDetailView } from "../read-orders/order-view.ts";
import type { OrderStatusWatcher } from "./order-status-watcher.ts";
import { FINAL_STATUSES, parsePreferWait } from "./prefer-wait.ts";

export interface PreferWaitOptions {
  watcher: OrderStatusWatcher;
  /** The order as GET /orders/{id} shows it, read once its wait is over. */
  readOrder: (orderId: string) => Promise<OrderDetailView>;
  /** RFC 7240 lets the server cap the wait; the design caps it at 30 s. */
  maxSeconds: number;
}

type WaitRoute = "place" | "read";

function waitRoute(request: FastifyRequest): WaitRoute | undefined {
  const url = request.routeOptions.url;
  if (request.method === "POST" && url === "/orders") return "place";
  if (request.method === "GET" && url === "/orders/:id") return "read";
  return undefined;
}

function withVaryPrefer(reply: FastifyReply): void {
  const current = reply.getHeader("vary");
  const values = String(current ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
  if (!values.some((v) => v.toLowerCase() === "prefer")) reply.header("vary", [...values, "Prefer"].join(", "));
}

function pendingOrderId(payload: unknown): { body: Record<string, unknown>; orderId: string } | undefined {
  if (typeof payload !== "string") return undefined;
  try {
    const body = JSON.parse(payload) as Record<string, unknown>;
    return typeof body.orderId === "string" ? { body, orderId: body.orderId } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The final answer after waiting, or undefined to send the answer already made. By then the order is committed
 * (the 201 exists): a failure here must never turn into an error response, so it falls back to that answer.
 */
async function waitedAnswer(
  options: PreferWaitOptions,
  route: WaitRoute,
  parsed: { body: Record<string, unknown>; orderId: string },
  seconds: number,
  log: FastifyBaseLogger,
): Promise<string | undefined> {
  try {
    const outcome = await options.watcher.waitForFinal(parsed.orderId, seconds * 1000);
    if (outcome !== "final") return undefined;
    const order = await options.readOrder(parsed.orderId);
    if (route === "read") return JSON.stringify(order);
    return JSON.stringify({ ...parsed.body, status: order.status, cancelReason: order.cancelReason });
  } catch (error) {
    log.warn({ err: error, order_id: parsed.orderId }, "Prefer: wait could not read the final state; answering the state already known");
    return undefined;
  }
}

/**
 * `Prefer: wait=N` on POST /orders and GET /orders/{id}, as one onSend hook so the routes stay unaware of it:
 * a PENDING answer is held until the order is CONFIRMED or CANCELLED (then answered with that state and
 * Preference-Applied: wait=N) or until N seconds pass (then PENDING as usual). With ORDER_WAIT_MAX_WAITERS
 * requests already waiting, the answer is sent at once (PENDING, no Preference-Applied). Both routes always send
 * Vary: Prefer, since the header can change the answer.
 */
export function registerPreferWait(app: FastifyInstance, options: PreferWaitOptions): void {
  app.addHook("onSend", async (request, reply, payload) => {
    const route = waitRoute(request);
    if (!route) return payload;
    withVaryPrefer(reply);
    const seconds = parsePreferWait(request.headers.prefer, options.maxSeconds);
    if (seconds === undefined || reply.statusCode !== (route === "place" ? 201 : 200)) return payload;
    const parsed = pendingOrderId(payload);
    if (!parsed) return payload;
    if (FINAL_STATUSES.has(String(parsed.body.status))) {
      reply.header("preference-applied", `wait=${seconds}`);
      return payload;
    }
    const waited = await waitedAnswer(options, route, parsed, seconds, request.log);
    if (waited === undefined) return payload;
    reply.header("preference-applied", `wait=${seconds}`);
    return waited;
  });
}
