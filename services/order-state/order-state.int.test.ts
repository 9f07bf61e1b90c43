import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../../test/support/stack-test-kit.ts";
import { ConsumerTestBench, type TestRunner } from "../../test/support/consumer/consumer-test-kit.ts";
import { createLogger } from "../shared/logging/create-logger.ts";
import { orderStateConsumer } from "./order-state-consumer.ts";
import { cancelOverdueOrders } from "./saga-deadline.ts";

const DEADLINE = { paymentDeadlineSeconds: 900 };
let bench: ConsumerTestBench;
let pool: pg.Pool;
let runner: TestRunner;
const orderIds: string[] = [];

async function pendingOrder(): Promise<string> {
  const id = randomUUID();
  orderIds.push(id);
  await pool.query("INSERT INTO orders (id, customer_id, currency, total_minor) VALUES ($1, 'customer-7', 'EUR', 4200)", [id]);
  return id;
}

const common = (orderId: string) => ({ event_id: randomUUID(), order_id: orderId, occurred_at: Date.now() });
const stockReserved = (orderId: string) => ({ ...common(orderId), reservation_id: orderId, items: [{ sku: "SKU-1", quantity: 1 }] });
const stockRejected = (orderId: string) => ({
  ...common(orderId),
  reason: "insufficient stock for SKU-1",
  shortages: [{ sku: "SKU-1", requested: 1, available: 0 }],
});
const paymentAuthorized = (orderId: string) => ({
  ...common(orderId),
  payment_id: randomUUID(),
  amount_minor: 4200,
  currency: "EUR",
  provider_reference: null,
});
const paymentDeclined = (orderId: string) => ({ ...common(orderId), payment_id: randomUUID(), amount_minor: 4200, currency: "EUR", reason: "card declined" });

async function orderRow(id: string) {
  const { rows } = await pool.query<{ status: string; cancel_reason: string | null }>("SELECT status, cancel_reason FROM orders WHERE id = $1", [id]);
  return rows[0];
}

async function history(id: string): Promise<string[]> {
  const { rows } = await pool.query<{ status: string }>("SELECT status FROM order_status_history WHERE order_id = $1 ORDER BY id", [id]);
  return rows.map((row) => row.status);
}

async function emitted(id: string): Promise<Array<{ event_type: string; payload: Record<string, unknown> }>> {
  const { rows } = await pool.query("SELECT event_type, payload FROM outbox WHERE key = $1 ORDER BY id", [id]);
  return rows;
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  bench = await ConsumerTestBench.create("order-state", { CONSUMER_PARTITIONS_CONCURRENCY: "6" });
  runner = await bench.startRunner(orderStateConsumer(DEADLINE));
});

afterAll(async () => {
  await bench?.close();
  await pool?.query("DELETE FROM outbox WHERE key = ANY($1::text[])", [orderIds]);
  await pool?.query("DELETE FROM order_outcomes WHERE order_id = ANY($1::uuid[])", [orderIds]);
  await pool?.query("DELETE FROM order_deadlines WHERE order_id = ANY($1::uuid[])", [orderIds]);
  await pool?.query("DELETE FROM orders WHERE id = ANY($1::uuid[])", [orderIds]);
  await pool?.end();
});

describe("order state", () => {
  it("decides each order from its outcomes in either arrival order, once, and never flips a terminal order", async () => {
    const [stockFirst, paymentFirst, rejected, declined] = [await pendingOrder(), await pendingOrder(), await pendingOrder(), await pendingOrder()];
    const before = runner.outcomes.length;
    await bench.publish("StockReserved", stockReserved(stockFirst));
    await bench.publish("PaymentAuthorized", paymentAuthorized(paymentFirst));
    await bench.publish("StockRejected", stockRejected(rejected));
    await bench.publish("PaymentDeclined", paymentDeclined(declined));
    await runner.waitForOutcomes(before + 4, 30_000);
    expect((await orderRow(stockFirst))?.status).toBe("PENDING");
    expect((await orderRow(paymentFirst))?.status).toBe("PENDING");
    expect(await orderRow(rejected)).toEqual({ status: "CANCELLED", cancel_reason: "stock rejected: insufficient stock for SKU-1" });
    expect(await orderRow(declined)).toEqual({ status: "CANCELLED", cancel_reason: "payment declined: card declined" });

    // The other halves arrive; for the cancelled orders they are late and must change nothing.
    await bench.publish("PaymentAuthorized", paymentAuthorized(stockFirst));
    await bench.publish("StockReserved", stockReserved(paymentFirst));
    await bench.publish("PaymentAuthorized", paymentAuthorized(rejected));
    await bench.publish("StockReserved", stockReserved(declined));
    await runner.waitForOutcomes(before + 8, 30_000);

    for (const id of [stockFirst, paymentFirst]) {
      expect((await orderRow(id))?.status).toBe("CONFIRMED");
      expect(await history(id)).toEqual(["CONFIRMED"]);
      const events = await emitted(id);
      expect(events.map((e) => e.event_type)).toEqual(["OrderConfirmed"]);
      expect(events[0]!.payload).toMatchObject({ order_id: id, customer_id: "customer-7", total_minor: 4200, currency: "EUR" });
    }
    for (const id of [rejected, declined]) {
      expect((await orderRow(id))?.status).toBe("CANCELLED");
      expect(await history(id)).toEqual(["CANCELLED"]);
      expect((await emitted(id)).map((e) => e.event_type)).toEqual(["OrderCancelled"]);
    }
    expect((await emitted(declined))[0]!.payload).toMatchObject({ reason: "payment declined: card declined", total_minor: 4200 });
  });

  it("confirms exactly once when both outcomes of many orders are processed concurrently", async () => {
    const ids = await Promise.all(Array.from({ length: 60 }, () => pendingOrder()));
    const before = runner.outcomes.length;
    await Promise.all([bench.publishMany("StockReserved", ids.map(stockReserved)), bench.publishMany("PaymentAuthorized", ids.map(paymentAuthorized))]);
    await runner.waitForOutcomes(before + 120, 60_000);
    const { rows } = await pool.query<{ status: string; n: string }>("SELECT status, count(*) AS n FROM orders WHERE id = ANY($1::uuid[]) GROUP BY status", [
      ids,
    ]);
    expect(rows).toEqual([{ status: "CONFIRMED", n: "60" }]);
    const confirmed = await pool.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE key = ANY($1::text[]) AND event_type = 'OrderConfirmed'", [ids]);
    expect(confirmed.rows[0]!.n).toBe("60");
    const historyRows = await pool.query<{ n: string }>("SELECT count(*) AS n FROM order_status_history WHERE order_id = ANY($1::uuid[])", [ids]);
    expect(historyRows.rows[0]!.n).toBe("60");
  });

  it("cancels an order still waiting for its payment after the deadline, once with two job instances, and a late outcome changes nothing", async () => {
    const waiting = await Promise.all(Array.from({ length: 25 }, () => pendingOrder()));
    const decided = await pendingOrder();
    // Placed an hour ago: past the 900 s deadline.
    await pool.query("UPDATE orders SET created_at = now() - interval '1 hour' WHERE id = ANY($1::uuid[])", [[...waiting, decided]]);
    const before = runner.outcomes.length;
    await bench.publishMany("StockReserved", [...waiting, decided].map(stockReserved)); // the payments stay PENDING at the provider
    await bench.publish("PaymentAuthorized", paymentAuthorized(decided));
    await runner.waitForOutcomes(before + 27, 60_000);
    expect((await orderRow(decided))?.status).toBe("CONFIRMED");

    const options = { batchSize: 10, logger: createLogger({ service: "order-state-test", level: "warn" }), deadline: DEADLINE };
    let cancelled = 0;
    for (let pass = 0; pass < 10; pass += 1) {
      const [a, b] = await Promise.all([cancelOverdueOrders(bench.clients.pool, options), cancelOverdueOrders(bench.clients.pool, options)]);
      cancelled += a + b;
      if (a + b === 0) break;
    }
    // At least these 25: a database that has served earlier runs may hold other overdue orders, which the job
    // rightly cancels too. Exactly once for these is asserted below, on their own rows and events.
    expect(cancelled).toBeGreaterThanOrEqual(25);
    const { rows } = await pool.query<{ status: string; cancel_reason: string; n: string }>(
      "SELECT status, cancel_reason, count(*) AS n FROM orders WHERE id = ANY($1::uuid[]) GROUP BY status, cancel_reason",
      [waiting],
    );
    expect(rows).toEqual([{ status: "CANCELLED", cancel_reason: "payment deadline passed", n: "25" }]);
    const events = await pool.query<{ event_type: string; n: string }>(
      "SELECT event_type, count(*) AS n FROM outbox WHERE key = ANY($1::text[]) GROUP BY event_type",
      [waiting],
    );
    expect(events.rows).toEqual([{ event_type: "OrderCancelled", n: "25" }]);
    expect((await emitted(waiting[0]!))[0]!.payload).toMatchObject({ reason: "payment deadline passed", total_minor: 4200, currency: "EUR" });
    const left = await pool.query("SELECT order_id FROM order_deadlines WHERE order_id = ANY($1::uuid[])", [[...waiting, decided]]);
    expect(left.rows).toEqual([]);

    // The payment's outcome arrives after the deadline: the order stays cancelled, nothing else is emitted.
    const lateBefore = runner.outcomes.length;
    await bench.publish("PaymentAuthorized", paymentAuthorized(waiting[0]!));
    await runner.waitForOutcomes(lateBefore + 1, 30_000);
    expect(await orderRow(waiting[0]!)).toEqual({ status: "CANCELLED", cancel_reason: "payment deadline passed" });
    expect((await emitted(waiting[0]!)).map((e) => e.event_type)).toEqual(["OrderCancelled"]);
    expect(await history(waiting[0]!)).toEqual(["CANCELLED"]);
  });
});
