/**
 * The payment group on the real database and Kafka with a recording gateway: authorize and void happen outside
 * the transaction (prepare) and their answers are recorded in it (apply); an order this group already saw
 * cancelled is never authorized, whatever the order of arrival.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../../test/support/stack-test-kit.ts";
import { ConsumerTestBench, type TestRunner } from "../../test/support/consumer/consumer-test-kit.ts";
import { orderPlaced } from "../../test/support/consumer/event-factory.ts";
import type { OrderPlacedPayload } from "../shared/events/event-payloads.ts";
import { paymentConsumer } from "./payment-consumer.ts";
import type { AuthorizeRequest, AuthorizeResult, PaymentGateway, VoidRequest, VoidResult } from "./provider/payment-gateway.ts";

/** Authorizes everything and records each call; `beforeAnswer` runs while the provider is "thinking". */
class RecordingGateway implements PaymentGateway {
  readonly calls: Array<{ operation: "authorize" | "void"; key: string }> = [];
  beforeAnswer: (request: AuthorizeRequest) => Promise<void> = async () => undefined;

  async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    this.calls.push({ operation: "authorize", key: request.idempotencyKey });
    await this.beforeAnswer(request);
    return { outcome: "authorized", providerPaymentId: `fake_${request.orderId}` };
  }

  async void(request: VoidRequest): Promise<VoidResult> {
    this.calls.push({ operation: "void", key: request.idempotencyKey });
    return { outcome: "voided", providerPaymentId: request.providerPaymentId };
  }

  callsFor(orderId: string): string[] {
    return this.calls.filter((call) => call.key.endsWith(orderId)).map((call) => call.operation);
  }
}

const gateway = new RecordingGateway();
let bench: ConsumerTestBench;
let pool: pg.Pool;
let runner: TestRunner;
const orderIds: string[] = [];

function order(): OrderPlacedPayload {
  const event = orderPlaced([{ sku: "SKU-1", quantity: 2, unit_price_minor: 1_500 }]);
  orderIds.push(event.order_id);
  return event;
}

function cancelOf(placed: OrderPlacedPayload, reason = "stock rejected: insufficient stock for SKU-1") {
  return {
    event_id: randomUUID(),
    order_id: placed.order_id,
    occurred_at: Date.now(),
    customer_id: placed.customer_id,
    total_minor: placed.total_minor,
    currency: placed.currency,
    reason,
  };
}

async function paymentOf(orderId: string): Promise<{ status: string } | undefined> {
  const { rows } = await pool.query<{ status: string }>("SELECT status FROM payments WHERE order_id = $1", [orderId]);
  return rows[0];
}

async function emitted(orderId: string): Promise<string[]> {
  const { rows } = await pool.query<{ event_type: string }>("SELECT event_type FROM outbox WHERE key = $1 ORDER BY id", [orderId]);
  return rows.map((row) => row.event_type);
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  bench = await ConsumerTestBench.create("payment", { CONSUMER_PARTITIONS_CONCURRENCY: "6" });
  runner = await bench.startRunner(paymentConsumer(gateway));
});

afterAll(async () => {
  await bench?.close();
  await pool?.query("DELETE FROM outbox WHERE key = ANY($1::text[])", [orderIds]);
  await pool?.query("DELETE FROM payments WHERE order_id = ANY($1::uuid[])", [orderIds]);
  await pool?.query("DELETE FROM order_tombstones WHERE order_id = ANY($1::uuid[])", [orderIds]);
  await pool?.end();
});

describe("payment group", () => {
  it("authorizes a placed order once and voids it when the order is cancelled", async () => {
    const placed = order();
    const before = runner.outcomes.length;
    await bench.publish("OrderPlaced", placed);
    await bench.publish("OrderPlaced", { ...placed }); // the same event again: the inbox skips it
    await runner.waitForOutcomes(before + 2, 30_000);
    expect(await paymentOf(placed.order_id)).toEqual({ status: "AUTHORIZED" });
    await bench.publish("OrderCancelled", cancelOf(placed));
    await runner.waitForOutcomes(before + 3, 30_000);
    expect(await paymentOf(placed.order_id)).toEqual({ status: "VOIDED" });
    expect(await emitted(placed.order_id)).toEqual(["PaymentAuthorized", "PaymentVoided"]);
    expect(gateway.callsFor(placed.order_id)).toEqual(["authorize", "void"]);
  });

  it("authorizes nothing for an OrderPlaced replayed after the order's OrderCancelled (a DLQ replay)", async () => {
    const placed = order();
    const before = runner.outcomes.length;
    await bench.publish("OrderCancelled", cancelOf(placed)); // nothing to void: it must still leave its mark
    await runner.waitForOutcomes(before + 1, 30_000);
    await bench.publish("OrderPlaced", placed);
    await runner.waitForOutcomes(before + 2, 30_000);
    expect(runner.outcomes.slice(before).map((o) => o.outcome)).toEqual(["processed", "processed"]);
    expect(gateway.callsFor(placed.order_id)).toEqual([]);
    expect(await paymentOf(placed.order_id)).toBeUndefined();
    expect(await emitted(placed.order_id)).toEqual([]);
  });

  it("voids and records nothing when the cancel lands between the authorization and its recording", async () => {
    const placed = order();
    gateway.beforeAnswer = async (request) => {
      if (request.orderId !== placed.order_id) return;
      // The order's cancel commits while the provider answers (another instance, a replay tool).
      await pool.query("INSERT INTO order_tombstones (consumer_group, order_id, reason) VALUES ('payment', $1, 'cancelled meanwhile') ON CONFLICT DO NOTHING", [
        placed.order_id,
      ]);
    };
    const before = runner.outcomes.length;
    await bench.publish("OrderPlaced", placed);
    await runner.waitForOutcomes(before + 1, 30_000);
    gateway.beforeAnswer = async () => undefined;
    expect(runner.outcomes.slice(before).map((o) => o.outcome)).toEqual(["processed"]);
    expect(await paymentOf(placed.order_id)).toBeUndefined();
    expect(await emitted(placed.order_id)).toEqual([]);
    expect(gateway.callsFor(placed.order_id).at(-1)).toBe("void");
  });
});
