import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../shared/db/index.ts";
import { prepareTestDatabase, testApp, testPrisma } from "../../../test/support/order-api/order-api-harness.ts";

describe("GET /products", () => {
  let prisma: PrismaClient;
  let app: FastifyInstance;

  beforeAll(async () => {
    prisma = testPrisma();
    await prepareTestDatabase(prisma);
    app = await testApp({ prisma });
  });

  afterAll(async () => {
    await app?.close();
    await prisma?.$disconnect();
  });

  it("lists active products with price in minor units and live stock, and hides inactive ones", async () => {
    await prisma.stock.upsert({ where: { sku: "OA-T-GADGET" }, create: { sku: "OA-T-GADGET", available: 7 }, update: { available: 7 } });
    const response = await app.inject({ method: "GET", url: "/products" });
    expect(response.statusCode).toBe(200);
    const products = response.json() as Array<{ sku: string; priceMinor: number; currency: string; available: number }>;
    expect(products.find((p) => p.sku === "OA-T-GADGET")).toEqual({ sku: "OA-T-GADGET", name: "Test gadget", priceMinor: 500, currency: "EUR", available: 7 });
    expect(products.some((p) => p.sku === "OA-T-RETIRED")).toBe(false);
    expect(products.length).toBeGreaterThanOrEqual(20); // the demo catalogue
  });
});
