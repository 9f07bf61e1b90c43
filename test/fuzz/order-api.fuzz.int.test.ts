/**
 * Property-based fuzzing of the order API (fast-check, shrinking) through app.inject() with the real PostgreSQL
 * behind it: POST /orders bodies and headers, GET /orders query strings and cursors, GET /orders/{id}, the payment
 * webhook signed and unsigned, Idempotency-Key and Prefer. 10,000 generated requests a run. Properties:
 * - never a 5xx;
 * - a 4xx is application/problem+json and wrote no row (orders, order_items, order_status_history, outbox,
 *   idempotency_keys, payment_callbacks are counted after every request);
 * - over the run, the rows written are exactly those of the 201s (orders) and the stored callbacks;
 * - the service still answers /livez and places an order at the end.
 * A failure prints the shrunk request (method, url, headers, payload) and the answer; fast-check adds the seed and
 * path that replay it.
 */
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../services/shared/db/index.ts";
import { orderBody, prepareTestDatabase, testApp, testConfig, testPrisma, TEST_DATABASE_URL } from "../support/order-api/order-api-harness.ts";
import { changedTables, countTables, FuzzLedger, type TableCounts } from "./fuzz-ledger.ts";
import {
  getOrderRequests,
  idempotentRequests,
  listOrderRequests,
  postOrderRequests,
  webhookRequests,
  type FuzzRequest,
  type FuzzWorld,
} from "./fuzz-requests.ts";

/** Requests per surface; 10,000 in all. */
const RUNS = { post: 3_200, list: 2_500, get: 1_500, webhook: 1_800, idempotent: 1_000 } as const;
const SKUS = ["ESP-001", "FLT-002", "TEA-003", "OA-T-WIDGET", "OA-T-GADGET", "OA-T-RETIRED", "OA-T-DOLLAR"];

const config = testConfig({ PREFER_WAIT_MAX_SECONDS: "1" });
const ledger = new FuzzLedger();
let prisma: PrismaClient;
let app: FastifyInstance;
let counter: pg.Client;
let confirmer: pg.Client;
let confirmTimer: NodeJS.Timeout | undefined;
let world: FuzzWorld;
let counts: TableCounts;
let startCounts: TableCounts;
const startedAt = new Date();
/** Properties that failed: the request count is only owed by a run in which none stopped early. */
let failedProperties = 0;

function describeRequest(request: FuzzRequest): string {
  return JSON.stringify({ method: request.method, url: request.url, headers: request.headers, payload: request.payload });
}

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

async function inject(request: FuzzRequest): Promise<Answer> {
  const response = await app.inject({ method: request.method, url: request.url, headers: request.headers, payload: request.payload });
  return { statusCode: response.statusCode, headers: response.headers, body: response.body };
}

/** Checks one answer against the properties; throws with the exact request so fast-check prints it shrunk. */
function check(request: FuzzRequest, answer: Answer): void {
  const what = () => `${describeRequest(request)} -> ${answer.statusCode} ${answer.body.slice(0, 400)}`;
  if (answer.statusCode >= 500) throw new Error(`5xx answer: ${what()}`);
  if (answer.statusCode >= 400 && !String(answer.headers["content-type"] ?? "").startsWith("application/problem+json")) {
    throw new Error(`4xx without application/problem+json (${String(answer.headers["content-type"])}): ${what()}`);
  }
}

/** Sends one request, counts the tables afterwards: a rejected request must not have written a row. */
async function sendChecked(surface: string, request: FuzzRequest): Promise<Answer> {
  const before = counts;
  const answer = await inject(request);
  ledger.record(surface, answer.statusCode);
  counts = await countTables(counter);
  check(request, answer);
  const changed = changedTables(before, counts);
  if (answer.statusCode >= 400 && changed.length > 0)
    throw new Error(`rejected request wrote rows (${changed.join(", ")}): ${describeRequest(request)} -> ${answer.statusCode} ${answer.body.slice(0, 300)}`);
  if (request.url === "/orders" && request.method === "POST") ledger.noteCreated(answer.statusCode, answer.headers, answer.body);
  if (request.url === "/payments/webhook") ledger.noteCallback(answer.statusCode, answer.body);
  return answer;
}

async function seedWorld(): Promise<FuzzWorld> {
  const ids: string[] = [];
  for (let i = 0; i < 4; i += 1) {
    const answer = await inject({
      method: "POST",
      url: "/orders",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify(orderBody({ customerId: `fz-seed-${i}` })),
    });
    expect(answer.statusCode).toBe(201);
    ledger.noteCreated(answer.statusCode, answer.headers, answer.body);
    ids.push((JSON.parse(answer.body) as { orderId: string }).orderId);
  }
  // Two of them decided, so Prefer: wait on them answers at once.
  await counter.query("UPDATE orders SET status = 'CONFIRMED', updated_at = now() WHERE id = ANY($1::uuid[])", [ids.slice(0, 2)]);
  const page = JSON.parse((await inject({ method: "GET", url: "/orders?limit=1", headers: {} })).body) as { nextCursor: string | null };
  const filtered = JSON.parse((await inject({ method: "GET", url: "/orders?limit=1&customerId=fz-seed-1", headers: {} })).body) as {
    nextCursor: string | null;
  };
  return {
    skus: SKUS,
    orderIds: ids,
    cursors: [page.nextCursor, filtered.nextCursor].filter((c): c is string => typeof c === "string"),
    webhookSecret: config.PAYMENT_WEBHOOK_SECRET,
  };
}

/** Stands in for the pipeline: fuzz orders get decided within ~25 ms, so Prefer: wait returns quickly. */
function startConfirming(): void {
  let busy = false;
  confirmTimer = setInterval(() => {
    if (busy) return;
    busy = true;
    confirmer
      .query("UPDATE orders SET status = 'CONFIRMED', updated_at = now() WHERE status = 'PENDING' AND created_at >= $1 AND customer_id LIKE 'fz-%'", [
        startedAt,
      ])
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, 25);
}

beforeAll(async () => {
  prisma = testPrisma();
  await prepareTestDatabase(prisma);
  app = await testApp({ prisma, config });
  counter = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5_000 });
  confirmer = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5_000 });
  await Promise.all([counter.connect(), confirmer.connect()]);
  startCounts = await countTables(counter);
  world = await seedWorld();
  counts = await countTables(counter);
  startConfirming();
});

afterAll(async () => {
  clearInterval(confirmTimer);
  process.stdout.write(`${ledger.report()}\n`);
  const ids = [...ledger.createdOrders.keys()];
  await counter.query("DELETE FROM outbox WHERE key = ANY($1::text[])", [ids]).catch(() => undefined);
  await counter.query("DELETE FROM orders WHERE id = ANY($1::uuid[])", [ids]).catch(() => undefined);
  await counter.query("DELETE FROM idempotency_keys WHERE created_at >= $1", [startedAt]).catch(() => undefined);
  await counter.query("DELETE FROM payment_callbacks WHERE received_at >= $1", [startedAt]).catch(() => undefined);
  await Promise.all([counter.end(), confirmer.end()]);
  await app?.close();
  await prisma?.$disconnect();
});

const assertOptions = (numRuns: number) => ({ numRuns, interruptAfterTimeLimit: 100_000, markInterruptAsFailure: true });

/** fc.assert that counts a failure before rethrowing it (fast-check's message carries the shrunk request). */
async function assertProperty(property: fc.IAsyncProperty<[unknown]> | fc.IAsyncPropertyWithHooks<[unknown]>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property, assertOptions(numRuns));
  } catch (error) {
    failedProperties += 1;
    throw error;
  }
}

describe("order API under generated requests", () => {
  it("POST /orders: bodies, content types, Idempotency-Key and Prefer never get a 5xx, and rejections write nothing", async () => {
    await assertProperty(
      fc.asyncProperty(postOrderRequests(world), async (request) => void (await sendChecked("POST /orders", request))),
      RUNS.post,
    );
  });

  it("GET /orders: filters, limits and cursors never get a 5xx", async () => {
    await assertProperty(
      fc.asyncProperty(listOrderRequests(world), async (request) => void (await sendChecked("GET /orders", request))),
      RUNS.list,
    );
  });

  it("GET /orders/{id} (with and without Prefer: wait) never gets a 5xx", async () => {
    await assertProperty(
      fc.asyncProperty(getOrderRequests(world), async (request) => void (await sendChecked("GET /orders/{id}", request))),
      RUNS.get,
    );
  });

  it("POST /payments/webhook signed, mis-signed and unsigned never gets a 5xx, and rejections write nothing", async () => {
    await assertProperty(
      fc.asyncProperty(webhookRequests(world), async (request) => void (await sendChecked("POST /payments/webhook", request))),
      RUNS.webhook,
    );
  });

  it("Idempotency-Key replays, mismatches and concurrent duplicates never get a 5xx", async () => {
    await assertProperty(
      fc.asyncProperty(idempotentRequests(world), async ({ request, concurrent }) => {
        if (!concurrent) return void (await sendChecked("POST /orders (idempotent)", request));
        const before = counts;
        const answers = await Promise.all([inject(request), inject(request)]);
        counts = await countTables(counter);
        for (const answer of answers) {
          ledger.record("POST /orders (idempotent, concurrent)", answer.statusCode);
          check(request, answer);
          ledger.noteCreated(answer.statusCode, answer.headers, answer.body);
        }
        const created = answers.filter((a) => a.statusCode === 201 && a.headers["idempotency-replayed"] !== "true").length;
        if (created > 1) throw new Error(`one Idempotency-Key placed ${created} orders: ${describeRequest(request)}`);
        const changed = changedTables(before, counts);
        if (answers.every((a) => a.statusCode >= 400) && changed.length > 0)
          throw new Error(`rejected requests wrote rows (${changed.join(", ")}): ${describeRequest(request)}`);
      }),
      RUNS.idempotent,
    );
  });

  it("wrote exactly the rows of the orders it accepted and the callbacks it stored, and still serves", async () => {
    const end = await countTables(counter);
    const orders = ledger.createdOrders.size;
    const lines = [...ledger.createdOrders.values()].reduce((sum, n) => sum + n, 0);
    expect({
      orders: end.orders - startCounts.orders,
      order_items: end.order_items - startCounts.order_items,
      order_status_history: end.order_status_history - startCounts.order_status_history,
      outbox: end.outbox - startCounts.outbox,
      payment_callbacks: end.payment_callbacks - startCounts.payment_callbacks,
    }).toEqual({ orders, order_items: lines, order_status_history: orders, outbox: orders, payment_callbacks: ledger.storedCallbacks });
    expect((await inject({ method: "GET", url: "/livez", headers: {} })).statusCode).toBe(200);
    const last = await inject({
      method: "POST",
      url: "/orders",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify(orderBody({ customerId: "fz-last" })),
    });
    expect(last.statusCode).toBe(201);
    ledger.noteCreated(last.statusCode, last.headers, last.body);
    if (failedProperties === 0) expect(ledger.requests).toBeGreaterThanOrEqual(10_000);
  });
});
