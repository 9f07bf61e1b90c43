import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { PrismaClient } from "../../shared/db/index.ts";
import { getOrder } from "../read-orders/read-orders.ts";
import type { OrderStatusWatcher } from "./order-status-watcher.ts";
import { FINAL_STATUSES, parsePreferWait } from "./prefer-wait.ts";

export interface PreferWaitOptions {
  prisma: PrismaClient;
  watcher: OrderStatusWatcher;
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
  const values = String(current ?? "").split(",").map((v) => v.trim()).filter(Boolean);
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
 * `Prefer: wait=N` on POST /orders and GET /orders/{id}, as one onSend hook so the routes stay unaware of it:
 * a PENDING answer is held until the order is CONFIRMED or CANCELLED (then answered with that state and
 * Preference-Applied: wait=N) or until N seconds pass (then PENDING as usual). Both routes always send
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
    const readStatus = async (): Promise<string | undefined> =>
      (await options.prisma.order.findUnique({ where: { id: parsed.orderId }, select: { status: true } }))?.status;
    const status = await options.watcher.waitForFinal(parsed.orderId, seconds * 1000, readStatus);
    if (status === undefined || !FINAL_STATUSES.has(status)) return payload;
    reply.header("preference-applied", `wait=${seconds}`);
    const order = await getOrder(options.prisma, parsed.orderId);
    if (route === "read") return JSON.stringify(order);
    return JSON.stringify({ ...parsed.body, status: order.status, cancelReason: order.cancelReason });
  });
}
