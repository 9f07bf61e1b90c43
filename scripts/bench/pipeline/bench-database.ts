import pg from "pg";
import { ensurePrismaClient } from "../../db/generate.ts";
import { applyMigrations, resetDatabase } from "../../db/migrate.ts";

/** Stock of every SKU for the happy path: nothing is rejected for want of stock however long the staircase runs. */
export const BENCH_STOCK = 1_000_000_000;

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    // The name was validated as a plain identifier (bench-options.ts), so quoting it is enough.
    if (rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
}

/**
 * The benchmark's own database on the stack's PostgreSQL (never the dev data): created when missing, wiped, migrated,
 * seeded with the demo catalogue and every SKU's stock raised to BENCH_STOCK. Returns its URL.
 */
export async function prepareBenchDatabase(baseUrl: string, database: string, log: (line: string) => void): Promise<string> {
  const url = withDatabase(baseUrl, database);
  await createDatabaseIfMissing(baseUrl, database);
  log(`database ${database}: reset (its previous contents are dropped), migrated, seeded, stock raised to ${BENCH_STOCK}`);
  await ensurePrismaClient();
  await resetDatabase(url);
  await applyMigrations(url, { log: () => undefined });
  // Imported late: the generated client exists only after ensurePrismaClient().
  const { createPrisma } = await import("../../../services/shared/db/index.ts");
  const { seedCatalogue } = await import("../../db/seed.ts");
  const prisma = createPrisma(url, { poolSize: 2 });
  try {
    await seedCatalogue(prisma);
  } finally {
    await prisma.$disconnect();
  }
  await withClient(url, (client) => client.query("UPDATE stock SET available = $1, reserved = 0", [BENCH_STOCK]));
  return url;
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, statement_timeout: 60_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface CatalogueProduct {
  sku: string;
  priceMinor: number;
  currency: string;
}

export async function readCatalogue(url: string): Promise<CatalogueProduct[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ sku: string; price_minor: string; currency: string }>(
      "SELECT sku, price_minor::text, currency FROM products WHERE active ORDER BY sku",
    );
    return rows.map((row) => ({ sku: row.sku, priceMinor: Number(row.price_minor), currency: row.currency }));
  });
}
