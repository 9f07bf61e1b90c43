/**
 * Through HTTP with every service running: a flash sale of one SKU (stock 100, 1,000 concurrent orders) confirms
 * exactly 100 and never takes stock below zero; then the inventory group replays its topic from offset 0 and no
 * effect happens twice (the inbox, keyed by group and event id, turns every redelivery into a no-op).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../../services/shared/config/load-config.ts";
import { fetchGroupOffsets, fetchTopicOffsets, withAdmin } from "../../services/shared/kafka/kafka-admin.ts";
import { resetGroupOffsetsToEarliest } from "../../services/shared/kafka/kafka-consumer.ts";
import { kafkaGroupId } from "../../services/shared/monitoring/lag-report.ts";
import { countBy, createProducts, placeOrders, waitForTerminal } from "../support/order-fixtures.ts";
import { Pipeline, pollUntil } from "../support/pipeline.ts";

const SKU = `E2E-FLASH-${randomBytes(3).toString("hex").toUpperCase()}`;
const STOCK = 100;
const ORDERS = 1000;
const CONCURRENCY = 100;

let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await Pipeline.start({ name: "flash" });
  await createProducts(pipeline.prisma, [{ sku: SKU, priceMinor: 999, stock: STOCK }]);
});

afterAll(async () => {
  await pipeline?.stop();
});

/** Everything inventory has ever done for these orders: what a replay must leave unchanged. */
async function inventoryEffects(ids: readonly string[]) {
  const { prisma } = pipeline;
  const [stock, reservations, events] = await Promise.all([
    prisma.stock.findUniqueOrThrow({ where: { sku: SKU } }),
    prisma.stockReservation.findMany({ where: { orderId: { in: [...ids] } }, select: { orderId: true, status: true } }),
    prisma.outbox.count({ where: { key: { in: [...ids] }, eventType: { in: ["StockReserved", "StockRejected", "StockReleased"] } } }),
  ]);
  return { available: stock.available, reserved: stock.reserved, reservations: countBy(reservations, (r) => r.status), events };
}

describe("flash sale through HTTP, then a replay from offset 0", () => {
  let ids: string[] = [];

  it("confirms exactly as many orders as there was stock and never oversells", async () => {
    const orders = Array.from({ length: ORDERS }, (_, i) => ({ customerId: `e2e-flash-${i}`, items: [{ sku: SKU, quantity: 1 }] }));
    ids = await placeOrders(pipeline, orders, CONCURRENCY);
    const statuses = await waitForTerminal(pipeline.prisma, ids, 240_000);
    expect(countBy(statuses.values(), (status) => status)).toEqual({ CONFIRMED: STOCK, CANCELLED: ORDERS - STOCK });
    await pollUntil(async () => ((await inventoryEffects(ids)).reserved === 0 ? true : undefined), 60_000, "reservations to settle", 250);
    const effects = await inventoryEffects(ids);
    expect(effects).toMatchObject({ available: 0, reserved: 0 });
    expect(effects.reservations.COMMITTED).toBe(STOCK);
    const cancelReasons = await pipeline.prisma.order.findMany({ where: { id: { in: ids }, status: "CANCELLED" }, select: { cancelReason: true } });
    expect(cancelReasons.every((o) => /stock/i.test(o.cancelReason ?? ""))).toBe(true);
  });

  it("replaying the orders topic to the inventory group from offset 0 produces no new effect", async () => {
    expect(ids).toHaveLength(ORDERS);
    const before = await inventoryEffects(ids);
    const groupId = kafkaGroupId(pipeline.config, "inventory");
    const topic = topicName(pipeline.config, "orders");
    // Offsets can only be moved while the group has no member.
    await Promise.all(pipeline.instances("inventory").map((instance) => instance.stop(15_000)));
    await pollUntil(
      async () => ((await pipeline.describeGroup("inventory"))?.members.length === 0 ? true : undefined),
      60_000,
      "the inventory group to empty",
      250,
    );
    await withAdmin(pipeline.kafka, (admin) => resetGroupOffsetsToEarliest(admin, groupId, topic));
    const rewound = await withAdmin(pipeline.kafka, (admin) => fetchGroupOffsets(admin, groupId, [topic]));
    const ends = await withAdmin(pipeline.kafka, (admin) => fetchTopicOffsets(admin, topic));
    const backlog = ends.reduce((sum, p) => sum + p.high, 0) - rewound.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    expect(backlog).toBeGreaterThanOrEqual(ORDERS); // the whole topic is to be read again

    await pipeline.startService("inventory");
    await pollUntil(
      async () => {
        const committed = await withAdmin(pipeline.kafka, (admin) => fetchGroupOffsets(admin, groupId, [topic]));
        const byPartition = new Map(committed.map((p) => [p.partition, Number(p.offset)]));
        // At least the end as of the reset: a late event appended since then moves the commit past it.
        return ends.every((p) => (byPartition.get(p.partition) ?? -1) >= p.high) ? true : undefined;
      },
      120_000,
      "the inventory group to re-read the whole topic",
      250,
    );
    expect(await inventoryEffects(ids)).toEqual(before);
  });
});
