/**
 * Scaling: three inventory instances share the orders topic's partitions (asserted from Kafka's group
 * description); one is killed with SIGKILL in the middle of a load; the survivors take its partitions over and
 * every order still finishes, with no duplicate effect (stock, reservations and emitted events counted exactly).
 * Those counts alone cannot see a broken inbox (inventory's own "already has reservations" guard would absorb a
 * redelivered OrderPlaced), so the test also asserts that no redelivery ever reached a handler: the guard never
 * fired on any instance, the killed one included.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../../services/shared/config/load-config.ts";
import type { GroupDescription } from "../../services/shared/kafka/kafka-admin.ts";
import { ALREADY_RESERVED_MESSAGE } from "../../services/inventory/reserve-stock.ts";
import { countBy, createProducts, placeOrders, waitForTerminal } from "../support/order-fixtures.ts";
import { Pipeline, pollUntil } from "../support/pipeline.ts";

const SKU = `E2E-SCALE-${randomBytes(3).toString("hex").toUpperCase()}`;
const STOCK = 10_000;
const ORDERS = 240;
const INSTANCES = 3;

let pipeline: Pipeline;

/** Partitions of the orders topic per member, sorted. */
function ordersAssignment(group: GroupDescription): number[][] {
  const orders = topicName(pipeline.config, "orders");
  return group.members.map((m) => m.assignment.find((a) => a.topic === orders)?.partitions ?? []);
}

function allPartitions(): number[] {
  return Array.from({ length: pipeline.config.TOPIC_PARTITIONS }, (_, i) => i);
}

beforeAll(async () => {
  // A short session timeout, so the killed instance's partitions are reassigned within seconds.
  pipeline = await Pipeline.start({
    name: "scaling",
    instances: { inventory: INSTANCES },
    env: { CONSUMER_SESSION_TIMEOUT_MS: "8000", CONSUMER_HEARTBEAT_INTERVAL_MS: "500" },
  });
  await createProducts(pipeline.prisma, [{ sku: SKU, priceMinor: 100, stock: STOCK }]);
});

afterAll(async () => {
  await pipeline?.stop();
});

describe("three instances of the inventory group", () => {
  it("share the partitions, survive a SIGKILL mid-load and apply every order exactly once", async () => {
    const { prisma } = pipeline;
    const before = await pipeline.waitForGroup("inventory", INSTANCES, 30_000);
    const shares = ordersAssignment(before);
    expect(shares.every((partitions) => partitions.length > 0)).toBe(true);
    expect(shares.flat().sort((a, b) => a - b)).toEqual(allPartitions());

    const bodies = Array.from({ length: ORDERS }, (_, i) => ({ customerId: `e2e-scale-${i}`, items: [{ sku: SKU, quantity: 1 }] }));
    const placing = placeOrders(pipeline, bodies, 6);

    // Kill one instance once the group is visibly working through the load.
    await pollUntil(
      async () => ((await prisma.stockReservation.count({ where: { sku: SKU } })) >= 40 ? true : undefined),
      120_000,
      "40 reservations before the kill",
      50,
    );
    const inventories = pipeline.instances("inventory");
    const victim = inventories[0]!;
    await victim.kill();
    const ids = await placing;

    const statuses = await waitForTerminal(prisma, ids, 180_000);
    expect(countBy(statuses.values(), (s) => s)).toEqual({ CONFIRMED: ORDERS });

    // The survivors hold every partition between them.
    const after = await pipeline.waitForGroup("inventory", INSTANCES - 1, 60_000);
    expect(
      ordersAssignment(after)
        .flat()
        .sort((a, b) => a - b),
    ).toEqual(allPartitions());

    // Exactly once: one reservation and one StockReserved per order, stock down by exactly the confirmed units.
    await pollUntil(
      async () => ((await prisma.stock.findUniqueOrThrow({ where: { sku: SKU } })).reserved === 0 ? true : undefined),
      60_000,
      "reservations to be committed",
      250,
    );
    expect(await prisma.stock.findUniqueOrThrow({ where: { sku: SKU } })).toMatchObject({ available: STOCK - ORDERS, reserved: 0 });
    const reservations = await prisma.stockReservation.findMany({ where: { orderId: { in: ids } } });
    expect(reservations.length).toBe(ORDERS);
    expect(countBy(reservations, (r) => r.status)).toEqual({ COMMITTED: ORDERS });
    const reservedEvents = await prisma.outbox.findMany({ where: { key: { in: ids }, eventType: "StockReserved" }, select: { key: true } });
    expect(reservedEvents.length).toBe(ORDERS);
    expect(new Set(reservedEvents.map((e) => e.key)).size).toBe(ORDERS);
    expect(await prisma.inbox.count({ where: { consumerGroup: "inventory", eventId: { in: await orderPlacedEventIds(ids) } } })).toBe(ORDERS);
    // The inbox itself, not the handler's guard, stopped every redelivery (the kill makes some: uncommitted offsets).
    const guardHits = inventories.flatMap((instance) => instance.lines.filter((line) => line.msg === ALREADY_RESERVED_MESSAGE));
    expect(guardHits).toEqual([]);
  });
});

async function orderPlacedEventIds(orderIds: string[]): Promise<string[]> {
  const rows = await pipeline.prisma.outbox.findMany({ where: { key: { in: orderIds }, eventType: "OrderPlaced" }, select: { eventId: true } });
  return rows.map((r) => r.eventId);
}
