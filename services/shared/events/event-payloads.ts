/**
 * TypeScript shapes of the event records in schemas/*.avsc (field names exactly as in Avro, snake_case).
 * Avro long (money, timestamp-millis) is a JS number: minor units and epoch ms stay far below 2^53.
 * Keep in step with the .avsc files; event-payloads.unit.test.ts compares the field names.
 */
import type { EventType } from "./topic-catalogue.ts";

export interface EventCommon {
  event_id: string;
  order_id: string;
  /** Epoch milliseconds UTC. */
  occurred_at: number;
}

export interface OrderLine {
  sku: string;
  quantity: number;
  unit_price_minor: number;
}

export interface StockLine {
  sku: string;
  quantity: number;
}

export interface StockShortage {
  sku: string;
  requested: number;
  available: number;
}

export interface OrderPlacedPayload extends EventCommon {
  customer_id: string;
  currency: string;
  total_minor: number;
  items: OrderLine[];
  /** JSON text of the address, or null. */
  shipping_address: string | null;
}

export interface OrderConfirmedPayload extends EventCommon {
  customer_id: string;
  total_minor: number;
  currency: string;
}

export interface OrderCancelledPayload extends EventCommon {
  customer_id: string;
  reason: string;
  total_minor: number;
  currency: string;
}

export interface StockReservedPayload extends EventCommon {
  reservation_id: string;
  items: StockLine[];
}

export interface StockRejectedPayload extends EventCommon {
  reason: string;
  shortages: StockShortage[];
}

export interface StockReleasedPayload extends EventCommon {
  reservation_id: string;
  reason: string;
  items: StockLine[];
}

export interface PaymentAuthorizedPayload extends EventCommon {
  payment_id: string;
  amount_minor: number;
  currency: string;
  provider_reference: string | null;
}

export interface PaymentDeclinedPayload extends EventCommon {
  payment_id: string;
  amount_minor: number;
  currency: string;
  reason: string;
}

export interface PaymentVoidedPayload extends EventCommon {
  payment_id: string;
  amount_minor: number;
  currency: string;
  reason: string;
}

export interface EventPayloads {
  OrderPlaced: OrderPlacedPayload;
  OrderConfirmed: OrderConfirmedPayload;
  OrderCancelled: OrderCancelledPayload;
  StockReserved: StockReservedPayload;
  StockRejected: StockRejectedPayload;
  StockReleased: StockReleasedPayload;
  PaymentAuthorized: PaymentAuthorizedPayload;
  PaymentDeclined: PaymentDeclinedPayload;
  PaymentVoided: PaymentVoidedPayload;
}

// Compile-time check that every event type of the catalogue has a payload shape and vice versa.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _everyEventHasAPayload: Exact<keyof EventPayloads, EventType> = true;
