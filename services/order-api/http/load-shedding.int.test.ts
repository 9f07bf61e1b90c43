/**
 * Overload: a tiny pool (2 connections) on a slow database and a burst of 150 concurrent orders. The API must stay responsive: each
 * answer is a 201 or an immediate 503 + Retry-After (never a wait until the connect timeout), every 201 is a
 * committed order, and once the burst is over the next order is accepted at once.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../shared/db/index.ts";
import {
  cleanTestRows,
  orderBody,
  prepareTestDatabase,
  testApp,
  testConfig,
  testPrisma,
  TEST_DATABASE_URL,
} from "../../../test/support/order-api/order-api-harness.ts";
import { AcceptTrap, TRAP_SLOW_MS, TRAPPED_CUSTOMER } from "../../../test/support/order-api/accept-trap.ts";

const BURST = 150;
/** Each accept holds its connection TRAP_SLOW_MS (300 ms, a slow database): two connections serve ~6 orders/s, so queueing the burst would take ~25 s. */
/**
 * Far below the connect timeout (30 s) and the ~25 s a queue would take, with room for a loaded machine (the 150
 * requests and the app share this process): an answer this late means the request queued for a connection.
 */
const ANSWER_BOUND_MS = 8_000;
const customerId = `${TRAPPED_CUSTOMER.slow}-overload`;

let direct: PrismaClient;
let app: FastifyInstance;
let trap: AcceptTrap;
let baseUrl: string;

beforeAll(async () => {
  direct = testPrisma();
  await prepareTestDatabase(direct);
  await cleanTestRows(direct);
  trap = await AcceptTrap.install();
  const config = testConfig({ DATABASE_POOL_SIZE: "2", DATABASE_CONNECT_TIMEOUT_MS: "30000", API_SHED_QUEUE_WAIT_MS: "500", API_SHED_MAX_WAITING: "4" });
  app = await testApp({
    prisma: testPrisma(TEST_DATABASE_URL, { poolSize: 2, connectTimeoutMs: 30_000 }),
    config,
  });
  baseUrl = await app.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await app?.close();
  await trap?.uninstall();
  await cleanTestRows(direct);
  await direct?.$disconnect();
});

async function timedPost(): Promise<{ status: number; retryAfter: string | null; type: string | null; orderId?: string; elapsedMs: number }> {
  const startedAt = Date.now();
  const response = await fetch(`${baseUrl}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(orderBody({ customerId })),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { orderId?: string };
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    type: response.headers.get("content-type"),
    orderId: body.orderId,
    elapsedMs: Date.now() - startedAt,
  };
}

describe("load shedding on a saturated pool", () => {
  it("answers every request with 201 or an immediate 503 + Retry-After, loses no accepted order, and recovers at once", async () => {
    const burst = Promise.all(Array.from({ length: BURST }, () => timedPost()));
    // While it sheds, the operations routes that read the database are shed too, but the console's event stream
    // (fed by the sampler, not by the request) still opens.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [lag, stream] = await Promise.all([fetch(`${baseUrl}/monitor/lag`), fetch(`${baseUrl}/monitor/console/stream`)]);
    expect(lag.status).toBe(503);
    expect(stream.status).toBe(200);
    await stream.body?.cancel();
    await lag.body?.cancel();
    const answers = await burst;

    for (const answer of answers) {
      expect([201, 503]).toContain(answer.status);
      expect(answer.elapsedMs).toBeLessThan(ANSWER_BOUND_MS);
      if (answer.status === 503) {
        expect(answer.retryAfter).toMatch(/^\d+$/);
        expect(answer.type).toContain("application/problem+json");
      }
    }
    const accepted = answers.filter((answer) => answer.status === 201).map((answer) => String(answer.orderId));
    expect(accepted.length).toBeGreaterThan(0);
    expect(await direct.order.count({ where: { id: { in: accepted } } })).toBe(accepted.length);
    expect(await direct.order.count({ where: { customerId } })).toBe(accepted.length);

    const after = await timedPost();
    expect(after.status).toBe(201);
    expect(after.elapsedMs).toBeLessThan(TRAP_SLOW_MS + 3_000);
  });
});
