/**
 * JSON schemas of the order API: they validate requests (Ajv), serialize responses and generate the OpenAPI
 * document at /docs, so the contract is written once.
 */

export const MAX_ORDER_LINES = 50;
export const MAX_LINE_QUANTITY = 1000;
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/**
 * Printable text: no control characters (PostgreSQL refuses NUL in text and jsonb) and no lone UTF-16
 * surrogates (jsonb refuses them), so such input is a 422 here instead of a 500 from the database.
 */
const PRINTABLE = "^[^\\p{Cc}\\p{Cs}]*$";
const PRINTABLE_TRIMMED = "^(?!\\s)(?!.*\\s$)[^\\p{Cc}\\p{Cs}]+$";

function text(minLength: number, maxLength: number, pattern = PRINTABLE): Record<string, unknown> {
  return { type: "string", minLength, maxLength, pattern };
}

export const currencySchema = { type: "string", pattern: "^[A-Z]{3}$", description: "ISO-4217 code", examples: ["EUR"] } as const;
export const orderStatusSchema = { type: "string", enum: ["PENDING", "CONFIRMED", "CANCELLED"] } as const;

export const shippingAddressSchema = {
  type: "object",
  additionalProperties: false,
  required: ["name", "line1", "city", "postalCode", "country"],
  properties: {
    name: text(1, 200),
    line1: text(1, 200),
    line2: text(0, 200),
    city: text(1, 100),
    region: text(0, 100),
    postalCode: text(1, 20),
    country: { type: "string", pattern: "^[A-Z]{2}$", description: "ISO-3166-1 alpha-2" },
  },
} as const;

export const placeOrderBodySchema = {
  type: "object",
  additionalProperties: false,
  required: ["customerId", "items", "currency"],
  properties: {
    customerId: { ...text(1, 100, PRINTABLE_TRIMMED), examples: ["customer-42"] },
    currency: currencySchema,
    items: {
      type: "array",
      minItems: 1,
      maxItems: MAX_ORDER_LINES,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["sku", "quantity"],
        properties: {
          sku: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$", examples: ["SKU-001"] },
          quantity: { type: "integer", minimum: 1, maximum: MAX_LINE_QUANTITY },
        },
      },
    },
    shippingAddress: shippingAddressSchema,
  },
} as const;

export interface PlaceOrderLineInput {
  sku: string;
  quantity: number;
}

export interface ShippingAddressInput {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postalCode: string;
  country: string;
}

export interface PlaceOrderInput {
  customerId: string;
  currency: string;
  items: PlaceOrderLineInput[];
  shippingAddress?: ShippingAddressInput;
}

const orderLineSchema = {
  type: "object",
  required: ["sku", "quantity", "unitPriceMinor", "lineTotalMinor"],
  properties: {
    sku: { type: "string" },
    quantity: { type: "integer" },
    unitPriceMinor: { type: "integer" },
    lineTotalMinor: { type: "integer" },
  },
} as const;

const orderSummaryProperties = {
  orderId: { type: "string", format: "uuid" },
  customerId: { type: "string" },
  status: orderStatusSchema,
  currency: currencySchema,
  totalMinor: { type: "integer", description: "Sum of the lines in minor units of currency" },
  createdAt: { type: "string", format: "date-time" },
  updatedAt: { type: "string", format: "date-time" },
} as const;

export const placedOrderSchema = {
  type: "object",
  required: ["orderId", "status", "customerId", "currency", "totalMinor", "items", "createdAt"],
  properties: { ...orderSummaryProperties, items: { type: "array", items: orderLineSchema } },
} as const;

export const orderDetailSchema = {
  type: "object",
  required: ["orderId", "status", "customerId", "currency", "totalMinor", "items", "statusHistory", "createdAt", "updatedAt"],
  properties: {
    ...orderSummaryProperties,
    shippingAddress: { anyOf: [shippingAddressSchema, { type: "null" }] },
    cancelReason: { type: ["string", "null"] },
    items: { type: "array", items: orderLineSchema },
    statusHistory: {
      type: "array",
      items: {
        type: "object",
        required: ["status", "at"],
        properties: { status: orderStatusSchema, reason: { type: ["string", "null"] }, at: { type: "string", format: "date-time" } },
      },
    },
  },
} as const;

export const orderPageSchema = {
  type: "object",
  required: ["items", "nextCursor"],
  properties: {
    items: { type: "array", items: { type: "object", properties: orderSummaryProperties } },
    nextCursor: { type: ["string", "null"], description: "Pass as `cursor` for the next page; null on the last page" },
  },
} as const;

export const orderIdParamsSchema = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", format: "uuid" } },
} as const;

export const listOrdersQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    customerId: text(1, 100),
    status: orderStatusSchema,
    createdFrom: { type: "string", format: "date-time", description: "Inclusive lower bound of created_at" },
    createdTo: { type: "string", format: "date-time", description: "Exclusive upper bound of created_at" },
    limit: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
    cursor: { type: "string", minLength: 1, maxLength: 512, pattern: "^[A-Za-z0-9_-]+$" },
  },
} as const;

export interface ListOrdersQuery {
  customerId?: string;
  status?: "PENDING" | "CONFIRMED" | "CANCELLED";
  createdFrom?: string;
  createdTo?: string;
  limit: number;
  cursor?: string;
}
