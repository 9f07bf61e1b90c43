/** Products, orders and waits for the end-to-end tests: each file makes its own SKUs so stock adds up exactly. */
import type { PrismaClient } from "../../services/shared/db/index.ts";
import { pollUntil, type Pipeline } from "./pipeline.ts";

export interface ProductSpec {
  sku: string;
  priceMinor: number;
  stock: number;
}

/** Creates (or resets) the products and their stock. */
export async function createProducts(prisma: PrismaClient, products: readonly ProductSpec[]): Promise<void> {
  for (const product of products) {
    const data = { name: `E2E ${product.sku}`, priceMinor: BigInt(product.priceMinor), currency: "EUR", active: true };
    await prisma.product.upsert({ where: { sku: product.sku }, create: { sku: product.sku, ...data }, update: data });
    await prisma.stock.upsert({
      where: { sku: product.sku },
      create: { sku: product.sku, available: product.stock, reserved: 0 },
      update: { available: product.stock, reserved: 0 },
    });
  }
}

export interface OrderRequest {
  customerId: string;
  items: { sku: string; quantity: number }[];
}

/** A 503 + Retry-After says nothing was written: a well-behaved client waits that long and sends again, a few times. */
const OVERLOAD_RETRIES = 10;

async function postOrder(pipeline: Pipeline, order: OrderRequest): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    const response = await pipeline.request("POST", "/orders", { body: { currency: "EUR", ...order } });
    if (response.status === 201) return ((await response.json()) as { orderId: string }).orderId;
    const retryAfter = Number(response.headers.get("retry-after"));
    if (response.status !== 503 || !Number.isFinite(retryAfter) || attempt > OVERLOAD_RETRIES) {
      throw new Error(`POST /orders answered ${response.status} (attempt ${attempt}): ${await response.text()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter, 5) * 1_000));
  }
}

/** POSTs every order with at most `concurrency` in flight; fails on any answer but 201 (after the bounded overload
 * retries above). Returns ids in input order. */
export async function placeOrders(pipeline: Pipeline, orders: readonly OrderRequest[], concurrency: number): Promise<string[]> {
  const ids: string[] = new Array<string>(orders.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < orders.length) {
      const index = next;
      next += 1;
      ids[index] = await postOrder(pipeline, orders[index]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}

/** Waits (bounded) until every order is CONFIRMED or CANCELLED; returns the status of each. */
export async function waitForTerminal(prisma: PrismaClient, orderIds: readonly string[], timeoutMs: number): Promise<Map<string, string>> {
  let pending = orderIds.length;
  return pollUntil(
    async () => {
      const rows = await prisma.order.findMany({ where: { id: { in: [...orderIds] } }, select: { id: true, status: true } });
      pending = rows.filter((row) => row.status === "PENDING").length + (orderIds.length - rows.length);
      return pending === 0 ? new Map(rows.map((row) => [row.id, row.status])) : undefined;
    },
    timeoutMs,
    () => `${pending} of ${orderIds.length} orders to leave PENDING`,
    250,
  );
}

export function countBy<T>(values: Iterable<T>, key: (value: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[key(value)] = (counts[key(value)] ?? 0) + 1;
  return counts;
}
