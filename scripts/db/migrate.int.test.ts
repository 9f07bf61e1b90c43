import { createHash, randomUUID } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma } from "../../services/shared/db/index.ts";
import { createMigration } from "./create-migration.ts";
import { dbPaths } from "./db-paths.ts";
import { applyMigrations, resetDatabase } from "./migrate.ts";
import { diffMigrationsToSchema, readMigrations } from "./schema-engine.ts";
import { loadCatalogue, seedCatalogue } from "./seed.ts";

// A fresh database per run on the test server, so the test never depends on (or damages) orderflow_test.
const serverUrl = new URL(process.env.DATABASE_URL ?? `postgresql://orderflow:orderflow@127.0.0.1:${process.env.POSTGRES_PORT ?? "5432"}/orderflow_test`);
const databaseName = `orderflow_migrate_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
const databaseUrl = Object.assign(new URL(serverUrl), { pathname: `/${databaseName}` }).toString();
const quiet = { log: () => undefined };

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const shadowDatabases = () =>
  withAdmin(async (c) => (await c.query("SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'")).rows[0].n as number);

describe("migrations through the WASM schema engine", () => {
  beforeAll(async () => {
    await withAdmin((c) => c.query(`CREATE DATABASE "${databaseName}"`));
  });

  afterAll(async () => {
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`));
  });

  it("applies every migration to an empty database and records it like prisma migrate deploy", async () => {
    const directories = (await readMigrations(dbPaths.migrations)).migrationDirectories.map((d) => d.path);
    expect(directories.length).toBeGreaterThan(0);

    const applied = await applyMigrations(databaseUrl, quiet);
    expect(applied).toEqual(directories);

    const tables = (await query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).map(
      (r) => r.table_name,
    );
    for (const table of [
      "products",
      "stock",
      "stock_reservations",
      "orders",
      "order_items",
      "order_status_history",
      "outbox",
      "inbox",
      "idempotency_keys",
      "payments",
      "payment_callbacks",
      "notifications",
      "_prisma_migrations",
    ]) {
      expect(tables).toContain(table);
    }

    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null; applied_steps_count: number }>(
      "SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name",
    );
    expect(rows.map((r) => r.migration_name)).toEqual(directories);
    for (const row of rows) {
      const sql = readFileSync(path.join(dbPaths.migrations, row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(sql).digest("hex"));
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it("is a no-op the second time", async () => {
    expect(await applyMigrations(databaseUrl, quiet)).toEqual([]);
    const [{ n }] = (await query<{ n: number }>("SELECT count(*)::int AS n FROM _prisma_migrations")) as [{ n: number }];
    expect(n).toBe((await readMigrations(dbPaths.migrations)).migrationDirectories.length);
  });

  it("has the hand-written guards and the partial outbox index", async () => {
    const checks = (await query<{ conname: string }>("SELECT conname FROM pg_constraint WHERE contype = 'c'")).map((r) => r.conname);
    expect(checks).toEqual(expect.arrayContaining(["stock_available_non_negative", "stock_reserved_non_negative"]));
    const [index] = await query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'outbox_unpublished_key_id_idx'");
    expect(index?.indexdef).toMatch(/\(key, id\) WHERE \(published_at IS NULL\)/);
    const [identity] = await query<{ is_identity: string }>(
      "SELECT is_identity FROM information_schema.columns WHERE table_name = 'outbox' AND column_name = 'id'",
    );
    expect(identity?.is_identity).toBe("YES");
  });

  it("seeds the catalogue, re-seeds it, and the database refuses negative stock", async () => {
    const prisma = createPrisma(databaseUrl, { poolSize: 2 });
    try {
      const catalogue = loadCatalogue();
      expect(await seedCatalogue(prisma, catalogue)).toBe(catalogue.products.length);
      const first = catalogue.products[0]!;
      await prisma.stock.update({ where: { sku: first.sku }, data: { available: 0, reserved: 3 } });
      await seedCatalogue(prisma, catalogue);
      expect(await prisma.stock.findUniqueOrThrow({ where: { sku: first.sku } })).toMatchObject({ available: first.stock, reserved: 0 });
      expect(await prisma.product.count()).toBe(catalogue.products.length);

      await expect(prisma.stock.update({ where: { sku: first.sku }, data: { available: { decrement: first.stock + 1 } } })).rejects.toThrow(
        /stock_available_non_negative/,
      );
    } finally {
      await prisma.$disconnect();
    }
  });

  it("names PostgreSQL and the address when it cannot connect", async () => {
    const closedPort = Object.assign(new URL(databaseUrl), { port: "1" }).toString();
    await expect(applyMigrations(closedPort, quiet)).rejects.toThrow(/cannot connect to PostgreSQL at [^ ]+:1\//);
  });

  it("finds schema.prisma and the migrations in sync, and cleans up its shadow database", async () => {
    const before = await shadowDatabases();
    expect(await diffMigrationsToSchema(databaseUrl, dbPaths.migrations, dbPaths.schema)).toBe("");
    expect(await shadowDatabases()).toBe(before);
  });

  it("resets to an empty schema, after which every migration applies again", async () => {
    await resetDatabase(databaseUrl);
    const tables = await query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'");
    expect(tables[0]?.n).toBe(0);
    const directories = (await readMigrations(dbPaths.migrations)).migrationDirectories.map((d) => d.path);
    expect(await applyMigrations(databaseUrl, quiet)).toEqual(directories);
  });

  it("creates a migration for a schema change in Prisma's layout, which then applies", async () => {
    const work = mkdtempSync(path.join(tmpdir(), "orderflow-create-migration-"));
    const migrationsDir = path.join(work, "migrations");
    cpSync(dbPaths.migrations, migrationsDir, { recursive: true });
    const schemaPath = path.join(work, "schema.prisma");
    const schema = readFileSync(dbPaths.schema, "utf8").replace(/(\n\s*active\s+Boolean[^\n]*)/, '$1\n  weightGrams Int? @map("weight_grams")');
    expect(schema).toContain("weight_grams");
    writeFileSync(schemaPath, schema);

    const dir = await createMigration({ name: "add product weight", databaseUrl, migrationsDir, schemaPath, now: new Date("2099-01-01T00:00:00Z") });
    expect(dir && path.basename(dir)).toBe("20990101000000_add_product_weight");
    expect(readFileSync(path.join(dir!, "migration.sql"), "utf8")).toMatch(/ALTER TABLE "products" ADD COLUMN\s+"weight_grams" INTEGER/);
    expect(await createMigration({ name: "again", databaseUrl, migrationsDir, schemaPath })).toBeUndefined();

    expect(await applyMigrations(databaseUrl, { ...quiet, migrationsDir })).toEqual(["20990101000000_add_product_weight"]);
    const columns = await query("SELECT 1 FROM information_schema.columns WHERE table_name = 'products' AND column_name = 'weight_grams'");
    expect(columns).toHaveLength(1);
  });

  it("applies a migration whose function body contains semicolons as one atomic script", async () => {
    const work = mkdtempSync(path.join(tmpdir(), "orderflow-plpgsql-migration-"));
    cpSync(dbPaths.migrations, work, { recursive: true });
    const dir = path.join(work, "20990102000000_plpgsql_body");
    const sql = [
      "-- a comment; with a semicolon",
      "CREATE FUNCTION orderflow_semicolons() RETURNS text LANGUAGE plpgsql AS $$",
      "BEGIN",
      "  PERFORM 1;",
      "  RETURN 'a;b';",
      "END;",
      "$$;",
    ].join("\n");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "migration.sql"), sql);
    expect(await applyMigrations(databaseUrl, { ...quiet, migrationsDir: work })).toContain("20990102000000_plpgsql_body");
    const rows = await query<{ v: string }>("SELECT orderflow_semicolons() AS v");
    expect(rows[0]?.v).toBe("a;b");
  });
});
