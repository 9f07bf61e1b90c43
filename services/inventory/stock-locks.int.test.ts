import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../../test/support/stack-test-kit.ts";
import { ConsumerTestBench, type TestRunner } from "../../test/support/consumer/consumer-test-kit.ts";
import { orderPlaced } from "../../test/support/consumer/event-factory.ts";
import { inventoryConsumer } from "./inventory-consumer.ts";

let bench: ConsumerTestBench;
let pool: pg.Pool;
let runner: TestRunner;
const skus = Array.from({ length: 4 }, () => `LOCK-${randomUUID().slice(0, 8)}`);
const orderIds: string[] = [];

async function deadlocks(): Promise<number> {
  const { rows } = await pool.query<{ deadlocks: string }>("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
  return Number(rows[0]!.deadlocks);
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  for (const sku of skus) {
    await pool.query("INSERT INTO products (sku, name, price_minor, currency) VALUES ($1, $1, 100, 'EUR')", [sku]);
    await pool.query("INSERT INTO stock (sku, available) VALUES ($1, 100000)", [sku]);
  }
  bench = await ConsumerTestBench.create("stock-locks", { CONSUMER_PARTITIONS_CONCURRENCY: "6" });
  runner = await bench.startRunner(inventoryConsumer);
});

afterAll(async () => {
  await bench?.close();
  await pool?.query("DELETE FROM outbox WHERE key = ANY($1::text[])", [orderIds]);
  await pool?.query("DELETE FROM stock_reservations WHERE sku = ANY($1::text[])", [skus]);
  await pool?.query("DELETE FROM stock WHERE sku = ANY($1::text[])", [skus]);
  await pool?.query("DELETE FROM products WHERE sku = ANY($1::text[])", [skus]);
  await pool?.end();
});

describe("inventory runs in flight at once", () => {
  it("lock their stock rows in one order: no deadlock, every order reserved once", async () => {
    // Single-SKU orders in random SKU order on every partition: runs applied side by side touch the same rows
    // in different orders, which deadlocks unless each run takes its rows up front, sorted.
    const events = Array.from({ length: 1_200 }, (_, i) => {
      const event = orderPlaced([{ sku: skus[(i * 7 + (i % 3)) % skus.length]!, quantity: 1, unit_price_minor: 100 }]);
      orderIds.push(event.order_id);
      return event;
    });
    const before = await deadlocks();
    await bench.publishMany("OrderPlaced", events);
    await runner.waitForEvents(
      events.map((event) => event.event_id),
      180_000,
    );
    expect(await deadlocks()).toBe(before);
    const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM stock_reservations WHERE order_id = ANY($1::uuid[])", [orderIds]);
    expect(Number(rows[0]!.n)).toBe(events.length);
  });
});
