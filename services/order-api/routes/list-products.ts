import type { FastifyInstance } from "fastify";
import type { PrismaClient } from "../../shared/db/index.ts";
import { problemResponses } from "../../shared/errors/problem-schema.ts";

const productSchema = {
  type: "object",
  additionalProperties: false,
  required: ["sku", "name", "priceMinor", "currency", "available"],
  properties: {
    sku: { type: "string" },
    name: { type: "string" },
    priceMinor: { type: "integer", description: "Unit price in minor units of currency" },
    currency: { type: "string", description: "ISO-4217 code" },
    available: { type: "integer", description: "Units that can still be reserved right now" },
  },
} as const;

export interface ProductView {
  sku: string;
  name: string;
  priceMinor: number;
  currency: string;
  available: number;
}

/** The active catalogue with live stock: what a shop front lists and what POST /orders prices against. */
export async function listProducts(prisma: PrismaClient): Promise<ProductView[]> {
  const products = await prisma.product.findMany({ where: { active: true }, include: { stock: true }, orderBy: { sku: "asc" } });
  return products.map((p) => ({
    sku: p.sku,
    name: p.name,
    priceMinor: Number(p.priceMinor),
    currency: p.currency,
    available: p.stock?.available ?? 0,
  }));
}

export function registerListProducts(app: FastifyInstance, prisma: PrismaClient): void {
  app.get(
    "/products",
    {
      schema: {
        tags: ["orders"],
        summary: "The catalogue: sku, name, price in minor units, currency, available stock",
        response: { 200: { description: "Active products", type: "array", items: productSchema }, ...problemResponses(503) },
      },
    },
    async () => listProducts(prisma),
  );
}
