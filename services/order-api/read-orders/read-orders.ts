import type { Prisma, PrismaClient } from "../../shared/db/index.ts";
import { OrderNotFoundError } from "../order-errors.ts";
import type { ListOrdersQuery } from "../routes/order-schemas.ts";
import { decodeCursor, encodeCursor } from "./order-cursor.ts";
import { toOrderDetail, toOrderSummary, type OrderDetailView, type OrderSummaryView } from "./order-view.ts";

const summarySelect = { id: true, customerId: true, status: true, currency: true, totalMinor: true, createdAt: true, updatedAt: true } as const;

export async function getOrder(prisma: PrismaClient, orderId: string): Promise<OrderDetailView> {
  const row = await prisma.order.findUnique({
    where: { id: orderId },
    include: {
      items: { orderBy: { sku: "asc" } },
      statusHistory: { orderBy: [{ at: "asc" }, { id: "asc" }] },
    },
  });
  if (!row) throw new OrderNotFoundError({ detail: `No order ${orderId}`, context: { orderId } });
  return toOrderDetail(row);
}

export interface OrderPage {
  items: OrderSummaryView[];
  nextCursor: string | null;
}

function listFilter(query: ListOrdersQuery): Prisma.OrderWhereInput {
  const where: Prisma.OrderWhereInput[] = [];
  if (query.customerId !== undefined) where.push({ customerId: query.customerId });
  if (query.status !== undefined) where.push({ status: query.status });
  if (query.createdFrom !== undefined) where.push({ createdAt: { gte: new Date(query.createdFrom) } });
  if (query.createdTo !== undefined) where.push({ createdAt: { lt: new Date(query.createdTo) } });
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    // Keyset pagination: stable under concurrent inserts, and an index range scan however deep the page.
    where.push({ OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] });
  }
  return { AND: where };
}

/** Newest first; one extra row tells whether another page exists. */
export async function listOrders(prisma: PrismaClient, query: ListOrdersQuery): Promise<OrderPage> {
  const rows = await prisma.order.findMany({
    where: listFilter(query),
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit + 1,
    select: summarySelect,
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor = rows.length > query.limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null;
  return { items: page.map(toOrderSummary), nextCursor };
}
