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

/** A shed request (503 OVERLOADED, "Nothing was written") is retried after its Retry-After, at most this often. */
const OVERLOAD_RETRIES = 20;

async function postOrder(pipeline: Pipeline, order: OrderRequest): Promise<Response> {
  for (let attempt = 0; ; attempt += 1) {
    const response = await pipeline.request("POST", "/orders", { body: { currency: "EUR", ...order } });
    if (response.status !== 503 || attempt >= OVERLOAD_RETRIES) return response;
    const problem = (await response.clone().json()) as { code?: string };
    if (problem.code !== "OVERLOADED") return response;
    await new Promise((resolve) => setTimeout(resolve, 1_000 * Number(response.headers.get("retry-after") ?? 1)));
  }
}

/**
 * POSTs every order with at most `concurrency` in flight; a load-shed 503 is retried as a client would (on a busy
 * machine the API sheds a burst by design), any other answer but 201 fails. Returns ids in input order.
 */
export async function placeOrders(pipeline: Pipeline, orders: readonly OrderRequest[], concurrency: number): Promise<string[]> {
  const ids: string[] = new Array<string>(orders.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < orders.length) {
      const index = next;
      next += 1;
      const response = await postOrder(pipeline, orders[index]!);
      if (response.status !== 201) throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
      ids[index] = ((await response.json()) as { orderId: string }).orderId;
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
