/**
 * Who may read what: reads of customer data (GET /orders, GET /orders/{id}) need the read token, operations
 * (/monitor/*, /metrics) the monitor token; /metrics never waits for a Kafka round trip; `?fresh=1` is only
 * honoured for an authenticated operator; per-client rate limits answer 429 + Retry-After.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LagReport } from "../../shared/monitoring/lag-report.ts";
import type { PrismaClient } from "../../shared/db/index.ts";
import type { MonitorService } from "../monitor/monitor-service.ts";
import { cleanTestRows, orderBody, prepareTestDatabase, testApp, testConfig, testPrisma } from "../../../test/support/order-api/order-api-harness.ts";

const READ_TOKEN = "read-token-for-tests-0123456789";
const MONITOR_TOKEN = "monitor-token-for-tests-0123456789";
const SLOW_GAUGE_REFRESH_MS = 2_000;

/** A monitor whose sources are slow (a Kafka admin round trip on a busy cluster), counting what the app asks of it. */
const calls = { lagReport: [] as boolean[], refreshGauges: 0 };
const slowMonitor: MonitorService = {
  lagReport: async (options) => {
    calls.lagReport.push(options?.fresh === true);
    return { groups: [], deadLetters: [], errors: [] } as unknown as LagReport;
  },
  recentOrders: async () => ({
    generatedAt: new Date().toISOString(),
    placedLastMinute: 0,
    confirmedLastMinute: 0,
    cancelledLastMinute: 0,
    orders: [],
    jaegerQueryUrl: "",
  }),
  refreshGauges: async () => {
    calls.refreshGauges += 1;
    await new Promise((resolve) => setTimeout(resolve, SLOW_GAUGE_REFRESH_MS));
  },
};

let prisma: PrismaClient;
let app: FastifyInstance;
let limited: FastifyInstance;

beforeAll(async () => {
  prisma = testPrisma();
  await prepareTestDatabase(prisma);
  // The console's sampler reads the same monitor; a period longer than this file keeps it out of the call counts.
  app = await testApp({
    prisma,
    monitor: slowMonitor,
    config: testConfig({ ORDERS_READ_TOKEN: READ_TOKEN, MONITOR_TOKEN, CONSOLE_SAMPLE_INTERVAL_MS: "60000" }),
  });
  limited = await testApp({ prisma, config: testConfig({ RATE_LIMIT_MAX: "3", RATE_LIMIT_WINDOW_MS: "60000" }) });
});

afterAll(async () => {
  await cleanTestRows(prisma);
  await app?.close();
  await limited?.close();
  await prisma?.$disconnect();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("authentication of reads and operations", () => {
  it("GET /orders and GET /orders/{id} need the read token (401 + WWW-Authenticate otherwise)", async () => {
    const placed = await app.inject({ method: "POST", url: "/orders", payload: orderBody() });
    expect(placed.statusCode).toBe(201);
    const orderUrl = `/orders/${placed.json().orderId as string}`;
    for (const url of ["/orders?limit=1", orderUrl]) {
      const anonymous = await app.inject({ method: "GET", url });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers["content-type"]).toContain("application/problem+json");
      expect(anonymous.headers["www-authenticate"]).toMatch(/^Bearer /);
      expect(anonymous.body).not.toContain("shippingAddress");
      expect((await app.inject({ method: "GET", url, headers: bearer("wrong") })).statusCode).toBe(401);
      expect((await app.inject({ method: "GET", url, headers: bearer(MONITOR_TOKEN) })).statusCode).toBe(401);
      expect((await app.inject({ method: "GET", url, headers: bearer(READ_TOKEN) })).statusCode).toBe(200);
    }
  });

  it("/monitor/* and /metrics need the monitor token", async () => {
    for (const url of ["/monitor/lag", "/monitor/recent-orders", "/metrics"]) {
      expect((await app.inject({ method: "GET", url })).statusCode, url).toBe(401);
      expect((await app.inject({ method: "GET", url, headers: bearer(READ_TOKEN) })).statusCode, url).toBe(401);
    }
  });

  it("/monitor/lag?fresh=1 bypasses the cache only for an authenticated operator", async () => {
    calls.lagReport.length = 0;
    expect((await app.inject({ method: "GET", url: "/monitor/lag?fresh=1", headers: bearer(MONITOR_TOKEN) })).statusCode).toBe(200);
    expect(calls.lagReport).toEqual([true]);
    const open = await testApp({ prisma, monitor: slowMonitor });
    try {
      expect((await open.inject({ method: "GET", url: "/monitor/lag?fresh=1" })).statusCode).toBe(200);
      expect(calls.lagReport).toEqual([true, false]);
    } finally {
      await open.close();
    }
  });

  it("/metrics answers from cached gauges: scrapes never wait for the monitor's sources, which are refreshed at most once per period", async () => {
    calls.refreshGauges = 0;
    for (let scrape = 0; scrape < 5; scrape++) {
      const startedAt = Date.now();
      const response = await app.inject({ method: "GET", url: "/metrics", headers: bearer(MONITOR_TOKEN) });
      expect(response.statusCode).toBe(200);
      expect(Date.now() - startedAt).toBeLessThan(SLOW_GAUGE_REFRESH_MS / 2);
    }
    expect(calls.refreshGauges).toBeLessThanOrEqual(1);
  });
});

describe("per-client rate limits", () => {
  it("answers 429 problem+json with Retry-After past the limit, per client", async () => {
    const get = (remoteAddress: string) => limited.inject({ method: "GET", url: "/products", remoteAddress });
    for (let i = 0; i < 3; i++) expect((await get("192.0.2.10")).statusCode).toBe(200);
    const refused = await get("192.0.2.10");
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["retry-after"]).toMatch(/^\d+$/);
    expect(refused.headers["content-type"]).toContain("application/problem+json");
    expect(refused.json()).toMatchObject({ status: 429, code: "RATE_LIMITED", canRetry: true });
    // Another client is not affected, and health checks are never limited.
    expect((await get("192.0.2.11")).statusCode).toBe(200);
    expect((await limited.inject({ method: "GET", url: "/livez", remoteAddress: "192.0.2.10" })).statusCode).toBe(200);
  });
});
