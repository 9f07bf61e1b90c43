/**
 * `npm run db:seed`: loads the demo catalogue (prisma/seed/catalogue.json) into DATABASE_URL. Re-runnable:
 * products are upserted and each listed SKU's stock is reset to the catalogue level with nothing reserved.
 * Reservations and orders are left alone.
 */
import { readFileSync } from "node:fs";
import { createPrisma, type PrismaClient } from "../../services/shared/db/index.ts";
import { databaseUrlFromEnv, dbPaths, elapsedSince, isMainModule } from "./db-paths.ts";

export interface CatalogueEntry {
  sku: string;
  name: string;
  /** Unit price in minor units of the catalogue currency. */
  priceMinor: number;
  /** Units available after seeding. */
  stock: number;
}

export interface Catalogue {
  currency: string;
  products: CatalogueEntry[];
}

export class CatalogueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CatalogueError";
  }
}

/** Checks the shape and the rules the database would reject, so a bad file fails with a readable message. */
export function parseCatalogue(raw: unknown, source = "catalogue"): Catalogue {
  const doc = raw as Partial<Catalogue> | null;
  if (!doc || typeof doc.currency !== "string" || !/^[A-Z]{3}$/.test(doc.currency)) {
    throw new CatalogueError(`${source}: "currency" must be an ISO-4217 code such as "EUR"`);
  }
  if (!Array.isArray(doc.products) || doc.products.length === 0) throw new CatalogueError(`${source}: "products" must be a non-empty list`);
  const seen = new Set<string>();
  doc.products.forEach((p: Partial<CatalogueEntry>, i) => {
    const where = `${source}: products[${i}]`;
    if (typeof p.sku !== "string" || !/^[A-Z0-9-]{1,64}$/.test(p.sku)) throw new CatalogueError(`${where}.sku must be 1-64 of A-Z, 0-9, -`);
    if (seen.has(p.sku)) throw new CatalogueError(`${where}: duplicate sku ${p.sku}`);
    seen.add(p.sku);
    if (typeof p.name !== "string" || p.name.length === 0 || p.name.length > 200) throw new CatalogueError(`${where}.name must be 1-200 characters`);
    if (!Number.isSafeInteger(p.priceMinor) || (p.priceMinor as number) < 0)
      throw new CatalogueError(`${where}.priceMinor must be a non-negative integer (minor units)`);
    if (!Number.isSafeInteger(p.stock) || (p.stock as number) < 0) throw new CatalogueError(`${where}.stock must be a non-negative integer`);
  });
  return doc as Catalogue;
}

export function loadCatalogue(file = dbPaths.catalogue): Catalogue {
  return parseCatalogue(JSON.parse(readFileSync(file, "utf8")) as unknown, file);
}

/** Upserts every product and resets its stock, in one transaction (all or nothing). Returns the SKU count. */
export async function seedCatalogue(prisma: PrismaClient, catalogue: Catalogue = loadCatalogue()): Promise<number> {
  await prisma.$transaction(
    async (tx) => {
      for (const p of catalogue.products) {
        const product = { name: p.name, priceMinor: BigInt(p.priceMinor), currency: catalogue.currency, active: true };
        await tx.product.upsert({ where: { sku: p.sku }, create: { sku: p.sku, ...product }, update: product });
        const stock = { available: p.stock, reserved: 0 };
        await tx.stock.upsert({ where: { sku: p.sku }, create: { sku: p.sku, ...stock }, update: stock });
      }
    },
    { timeout: 30_000 },
  );
  return catalogue.products.length;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const prisma = createPrisma(databaseUrlFromEnv(), { poolSize: 2 });
  try {
    const count = await seedCatalogue(prisma);
    process.stdout.write(`seeded ${count} products with stock (${elapsedSince(startedAt)})\n`);
  } finally {
    await prisma.$disconnect();
  }
}

if (isMainModule(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`db:seed failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
