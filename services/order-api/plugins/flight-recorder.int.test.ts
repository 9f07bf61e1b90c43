/**
 * GET /orders/{id}/timeline and /trace against the real database (no relay or consumers run here, so an order stays
 * PENDING with its OrderPlaced row unpublished): who may call them, what the timeline reads, and the sentence for an
 * order held back by an unpublished or a failed outbox row.
 */
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../shared/db/index.ts";
import type { LagReport } from "../../shared/monitoring/lag-report.ts";
import type { OrderTimeline } from "../flight-recorder/build-timeline.ts";
import type { MonitorService } from "../monitor/monitor-service.ts";
import { cleanTestRows, orderBody, prepareTestDatabase, testApp, testConfig, testPrisma } from "../../../test/support/order-api/order-api-harness.ts";

const MONITOR_TOKEN = "monitor-token-for-flight-recorder-tests";
const monitor: MonitorService = {
  lagReport: async () => ({ groups: [], deadLetters: [], errors: [] }) as unknown as LagReport,
  recentOrders: async () => ({
    generatedAt: new Date().toISOString(),
    placedLastMinute: 0,
    confirmedLastMinute: 0,
    cancelledLastMinute: 0,
    orders: [],
    jaegerQueryUrl: "",
  }),
  refreshGauges: async () => undefined,
};

let prisma: PrismaClient;
let app: FastifyInstance;
const auth = { authorization: `Bearer ${MONITOR_TOKEN}` };

beforeAll(async () => {
  prisma = testPrisma();
  await prepareTestDatabase(prisma);
  app = await testApp({ prisma, monitor, config: testConfig({ MONITOR_TOKEN, JAEGER_UI_URL: "http://jaeger-ui.example:16686/" }) });
});

afterAll(async () => {
  await cleanTestRows(prisma);
  await app?.close();
  await prisma?.$disconnect();
});

async function placeOrder(): Promise<string> {
  const placed = await app.inject({ method: "POST", url: "/orders", payload: orderBody() });
  expect(placed.statusCode).toBe(201);
  return placed.json<{ orderId: string }>().orderId;
}

describe("order flight recorder routes", () => {
  it("need the monitor token, like /monitor/*", async () => {
    const orderId = await placeOrder();
    for (const url of [`/orders/${orderId}/timeline`, `/orders/${orderId}/trace`]) {
      const anonymous = await app.inject({ method: "GET", url });
      expect(anonymous.statusCode, url).toBe(401);
      expect(anonymous.headers["www-authenticate"]).toMatch(/^Bearer realm="orderflow-monitor"/);
      expect((await app.inject({ method: "GET", url, headers: auth })).statusCode, url).toBe(200);
    }
  });

  it("answer 404 for an unknown order and 400 for an id that is not a UUID", async () => {
    expect((await app.inject({ method: "GET", url: `/orders/${randomUUID()}/timeline`, headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ method: "GET", url: `/orders/${randomUUID()}/trace`, headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ method: "GET", url: "/orders/not-a-uuid/timeline", headers: auth })).statusCode).toBe(400);
  });

  it("a fresh order: status, its OrderPlaced row not yet published, and the sentence saying so", async () => {
    const orderId = await placeOrder();
    const timeline = (await app.inject({ method: "GET", url: `/orders/${orderId}/timeline`, headers: auth })).json<OrderTimeline>();
    expect(timeline).toMatchObject({ orderId, status: "PENDING", terminal: false });
    expect(timeline.events).toHaveLength(1);
    expect(timeline.events[0]).toMatchObject({
      eventType: "OrderPlaced",
      writtenBy: "order-api",
      topic: "orders",
      publishedAt: null,
      partition: null,
      offset: null,
    });
    expect(timeline.events[0]!.consumers.map((c) => c.group)).toEqual(["inventory", "payment", "notification"]);
    expect(timeline.steps.map((s) => s.source)).toEqual(["status", "outbox"]);
    expect(timeline.waitingFor).toMatch(
      new RegExp(`^The relay has not published the OrderPlaced event \\(outbox row ${timeline.events[0]!.outboxId}\\) written \\d+ s ago\\.$`),
    );
  });

  it("an order held back by a failed outbox row names the row, its error and the retry command", async () => {
    const orderId = await placeOrder();
    const [row] = await prisma.$queryRaw<Array<{ id: bigint }>>`
      UPDATE outbox SET failed_at = now(), attempts = 5, last_error = 'payload does not fit schema OrderPlaced'
       WHERE key = ${orderId} RETURNING id`;
    const timeline = (await app.inject({ method: "GET", url: `/orders/${orderId}/timeline`, headers: auth })).json<OrderTimeline>();
    expect(timeline.waitingFor).toBe(
      `The OrderPlaced event (outbox row ${row!.id}) failed for good after 5 attempts (payload does not fit schema OrderPlaced); it holds back this order's 0 later event(s) until it is retried: npm run outbox -- retry --id ${row!.id}.`,
    );
    expect(timeline.steps.map((s) => s.what)).toContain("relay gave up on OrderPlaced after 5 attempts: payload does not fit schema OrderPlaced");
  });

  it("/trace names the trace id stored with the order and links the full Jaeger UI when one is configured", async () => {
    const orderId = await placeOrder();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    await prisma.$executeRaw`UPDATE outbox SET headers = jsonb_build_object('traceparent', ${`00-${traceId}-00f067aa0ba902b7-01`}::text) WHERE key = ${orderId}`;
    const answer = (await app.inject({ method: "GET", url: `/orders/${orderId}/trace`, headers: auth })).json<{
      traceId: string;
      jaegerUiUrl: string;
      trace: unknown;
      error: string | null;
    }>();
    // The test stack's Jaeger has no such trace: the answer says so instead of failing.
    expect(answer).toEqual({ orderId, traceId, jaegerUiUrl: `http://jaeger-ui.example:16686/trace/${traceId}`, trace: null, error: null });
    const timeline = (await app.inject({ method: "GET", url: `/orders/${orderId}/timeline`, headers: auth })).json<OrderTimeline>();
    expect(timeline.traceId).toBe(traceId);
    expect(timeline.trace).toEqual({ found: false, spanCount: 0, services: [], durationMs: null, error: null, jaegerUiUrl: answer.jaegerUiUrl });
  });
});
