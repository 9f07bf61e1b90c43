import type { ShippingAddressInput } from "../routes/order-schemas.ts";

/** Rows as Prisma returns them (BigInt money, Date times) -> JSON for the API (numbers, ISO strings). */

export type OrderStatus = "PENDING" | "CONFIRMED" | "CANCELLED";
type Status = OrderStatus;

export interface OrderSummaryView {
  orderId: string;
  customerId: string;
  status: Status;
  currency: string;
  totalMinor: number;
  createdAt: string;
  updatedAt: string;
}

export interface OrderDetailView extends OrderSummaryView {
  shippingAddress: ShippingAddressInput | null;
  cancelReason: string | null;
  items: { sku: string; quantity: number; unitPriceMinor: number; lineTotalMinor: number }[];
  statusHistory: { status: Status; reason: string | null; at: string }[];
}

interface OrderRow {
  id: string;
  customerId: string;
  status: Status;
  currency: string;
  totalMinor: bigint;
  createdAt: Date;
  updatedAt: Date;
}

export function toOrderSummary(row: OrderRow): OrderSummaryView {
  return {
    orderId: row.id,
    customerId: row.customerId,
    status: row.status,
    currency: row.currency,
    totalMinor: Number(row.totalMinor),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
