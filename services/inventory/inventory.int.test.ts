import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../../test/support/stack-test-kit.ts";
import { ConsumerTestBench, type TestRunner } from "../../test/support/consumer/consumer-test-kit.ts";
import { orderPlaced } from "../../test/support/consumer/event-factory.ts";
import type { OrderPlacedPayload } from "../shared/events/event-payloads.ts";
import { inventoryConsumer } from "./inventory-consumer.ts";

let bench: ConsumerTestBench;
let pool: pg.Pool;
let runner: TestRunner;
const skus: string[] = [];
const orderIds: string[] = [];

async function createSku(available: number): Promise<string> {
  const sku = `TEST-${randomUUID().slice(0, 8)}`;
  skus.push(sku);
  await pool.query("INSERT INTO products (sku, name, price_minor, currency) VALUES ($1, $1, 1000, 'EUR')", [sku]);
  await pool.query("INSERT INTO stock (sku, available) VALUES ($1, $2)", [sku, available]);
  return sku;
}

async function stockOf(sku: string): Promise<{ available: number; reserved: number }> {
  const { rows } = await pool.query<{ available: number; reserved: number }>("SELECT available, reserved FROM stock WHERE sku = $1", [sku]);
  return rows[0]!;
}

async function emitted(eventType: string, keys: readonly string[]): Promise<Array<{ key: string; payload: Record<string, unknown> }>> {
  const { rows } = await pool.query("SELECT key, payload FROM outbox WHERE event_type = $1 AND key = ANY($2::text[]) ORDER BY id", [eventType, keys]);
  return rows;
}

function orders(count: number, lines: OrderPlacedPayload["items"]): OrderPlacedPayload[] {
  return Array.from({ length: count }, () => {
    const event = orderPlaced(lines);
    orderIds.push(event.order_id);
    return event;
  });
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  bench = await ConsumerTestBench.create("inventory", { CONSUMER_PARTITIONS_CONCURRENCY: "6" });
  runner = await bench.startRunner(inventoryConsumer);
});

afterAll(async () => {
  await bench?.close();
  await pool?.query("DELETE FROM outbox WHERE key = ANY($1::text[])", [orderIds]);
  await pool?.query("DELETE FROM stock_reservations WHERE sku = ANY($1::text[])", [skus]);
  await pool?.query("DELETE FROM order_tombstones WHERE order_id = ANY($1::uuid[])", [orderIds]);
  await pool?.query("DELETE FROM stock WHERE sku = ANY($1::text[])", [skus]);
  await pool?.query("DELETE FROM products WHERE sku = ANY($1::text[])", [skus]);
  await pool?.end();
});

describe("inventory", () => {
  it("flash sale: 1,000 concurrent orders for a SKU with stock 100 reserve exactly 100, stock ends at 0", async () => {
    const sku = await createSku(100);
    const placed = orders(1_000, [{ sku, quantity: 1, unit_price_minor: 1_000 }]);
    const before = runner.outcomes.length;
    const started = Date.now();
    await bench.publishMany("OrderPlaced", placed);
    await runner.waitForEvents(
      placed.map((event) => event.event_id),
      180_000,
    );
    const elapsed = Date.now() - started;

    expect(await stockOf(sku)).toEqual({ available: 0, reserved: 100 });
    const { rows } = await pool.query<{ n: string; units: string }>(
      "SELECT count(*) AS n, sum(quantity) AS units FROM stock_reservations WHERE sku = $1 AND status = 'RESERVED'",
      [sku],
    );
    expect(rows[0]).toEqual({ n: "100", units: "100" });
    const keys = placed.map((e) => e.order_id);
    expect(await emitted("StockReserved", keys)).toHaveLength(100);
    const rejected = await emitted("StockRejected", keys);
    expect(rejected).toHaveLength(900);
    expect(rejected[0]!.payload).toMatchObject({ shortages: [{ sku, requested: 1, available: 0 }] });
    expect(runner.outcomes.slice(before).every((o) => o.outcome === "processed")).toBe(true);
    console.log(`flash sale: 1,000 OrderPlaced processed in ${elapsed} ms`);
  });

  it("reserves every line or none, naming only the short SKUs", async () => {
    const [plenty, scarce] = [await createSku(10), await createSku(1)];
    const [order] = orders(1, [
      { sku: plenty, quantity: 3, unit_price_minor: 1_000 },
      { sku: scarce, quantity: 2, unit_price_minor: 1_000 },
    ]);
    const before = runner.outcomes.length;
    await bench.publish("OrderPlaced", order!);
    await runner.waitForOutcomes(before + 1, 30_000);
    expect(await stockOf(plenty)).toEqual({ available: 10, reserved: 0 });
    expect(await stockOf(scarce)).toEqual({ available: 1, reserved: 0 });
    const [rejected] = await emitted("StockRejected", [order!.order_id]);
    expect(rejected!.payload).toMatchObject({ reason: expect.stringContaining(scarce), shortages: [{ sku: scarce, requested: 2, available: 1 }] });
    expect(await emitted("StockReserved", [order!.order_id])).toHaveLength(0);
  });

  it("releases a cancelled order's reservation once and commits a confirmed one", async () => {
    const sku = await createSku(10);
    const [cancelled, confirmed] = orders(2, [{ sku, quantity: 2, unit_price_minor: 1_000 }]);
    let before = runner.outcomes.length;
    await bench.publishMany("OrderPlaced", [cancelled!, confirmed!]);
    await runner.waitForOutcomes(before + 2, 30_000);
    expect(await stockOf(sku)).toEqual({ available: 6, reserved: 4 });

    const common = { customer_id: "customer-1", total_minor: 2_000, currency: "EUR", occurred_at: Date.now() };
    const cancel = () => ({ ...common, event_id: randomUUID(), order_id: cancelled!.order_id, reason: "payment declined" });
    before = runner.outcomes.length;
    await bench.publishMany("OrderCancelled", [cancel(), cancel()]); // a second cancel (other event id) must not release twice
    await bench.publish("OrderConfirmed", { ...common, event_id: randomUUID(), order_id: confirmed!.order_id });
    await runner.waitForOutcomes(before + 3, 30_000);

    expect(await stockOf(sku)).toEqual({ available: 8, reserved: 0 });
    const released = await emitted("StockReleased", [cancelled!.order_id]);
    expect(released).toHaveLength(1);
    expect(released[0]!.payload).toMatchObject({ reservation_id: cancelled!.order_id, reason: "payment declined", items: [{ sku, quantity: 2 }] });
    const { rows } = await pool.query("SELECT order_id, status FROM stock_reservations WHERE sku = $1 ORDER BY status", [sku]);
    expect(rows).toEqual([
      { order_id: cancelled!.order_id, status: "RELEASED" },
      { order_id: confirmed!.order_id, status: "COMMITTED" },
    ]);
  });

  it("never reserves for an order it already cancelled: OrderPlaced arriving after OrderCancelled (a DLQ replay) takes nothing", async () => {
    const sku = await createSku(5);
    const [replayed] = orders(1, [{ sku, quantity: 2, unit_price_minor: 1_000 }]);
    const cancel = {
      event_id: randomUUID(),
      order_id: replayed!.order_id,
      occurred_at: Date.now(),
      customer_id: "customer-1",
      total_minor: 2_000,
      currency: "EUR",
      reason: "payment declined",
    };
    const before = runner.outcomes.length;
    await bench.publish("OrderCancelled", cancel); // nothing to release yet: it must still leave its mark
    await runner.waitForOutcomes(before + 1, 30_000);
    await bench.publish("OrderPlaced", replayed!);
    await runner.waitForOutcomes(before + 2, 30_000);

    expect(runner.outcomes.slice(before).map((o) => o.outcome)).toEqual(["processed", "processed"]);
    expect(await stockOf(sku)).toEqual({ available: 5, reserved: 0 });
    const { rows } = await pool.query("SELECT 1 FROM stock_reservations WHERE order_id = $1", [replayed!.order_id]);
    expect(rows).toHaveLength(0);
    expect(await emitted("StockReserved", [replayed!.order_id])).toHaveLength(0);
    const tombstones = await pool.query("SELECT reason FROM order_tombstones WHERE consumer_group = 'inventory' AND order_id = $1", [replayed!.order_id]);
    expect(tombstones.rows).toEqual([{ reason: "payment declined" }]);
  });
});
