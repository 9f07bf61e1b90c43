import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ColumnTypeEnum } from "@prisma/driver-adapter-utils";
import { describe, expect, it } from "vitest";
import { migrationSlug, migrationTimestamp } from "./create-migration.ts";
import { isClientUpToDate, schemaFingerprint } from "./generate.ts";
import { LOCKFILE_CONTENT, readMigrations } from "./migrations-dir.ts";
import { markInternalCharColumns, poolConfigFromUrl, relabelInternalCharColumns } from "./pg-migration-adapter.ts";
import { isEmptyScript } from "./schema-engine.ts";
import { CatalogueError, loadCatalogue, parseCatalogue } from "./seed.ts";

describe("migration naming", () => {
  it("follows Prisma's directory layout", () => {
    expect(migrationTimestamp(new Date("2026-01-02T03:04:05.678Z"))).toBe("20260102030405");
    expect(migrationSlug("Add payment-captures!")).toBe("add_payment_captures");
    expect(() => migrationSlug("--")).toThrow(/not a usable migration name/);
  });
});

describe("schema engine helpers", () => {
  it("turns a URL into explicit fields so the shadow database name cannot be overridden", () => {
    const config = poolConfigFromUrl("postgresql://u%40x:p%2Fw@127.0.0.1:55432/orders_db");
    expect(config).toMatchObject({ host: "127.0.0.1", port: 55432, user: "u@x", password: "p/w", database: "orders_db" });
    expect(config).not.toHaveProperty("connectionString");
    expect(() => poolConfigFromUrl("mysql://x@y/z")).toThrow(/postgresql:\/\//);
  });

  it("treats a comment-only diff as no change", () => {
    expect(isEmptyScript("-- This is an empty migration.\n\n")).toBe(true);
    expect(isEmptyScript("")).toBe(true);
    expect(isEmptyScript("-- AlterTable\nALTER TABLE x ADD COLUMN y int;\n")).toBe(false);
  });

  it('reports PostgreSQL\'s internal "char" columns as Character, other columns untouched', () => {
    const rows = [["r", "orders"]];
    const pgResult = { fields: [{ dataTypeID: 18 }, { dataTypeID: 19 }], rows };
    relabelInternalCharColumns(pgResult);
    expect(pgResult.fields.map((f) => f.dataTypeID)).toEqual([25, 19]);
    const marked = markInternalCharColumns({ columnNames: ["relkind", "relname"], columnTypes: [ColumnTypeEnum.Text, ColumnTypeEnum.Text], rows });
    expect(marked.columnTypes).toEqual([ColumnTypeEnum.Character, ColumnTypeEnum.Text]);
    const other = markInternalCharColumns({ columnNames: ["a"], columnTypes: [ColumnTypeEnum.Text], rows: [["x"]] });
    expect(other.columnTypes).toEqual([ColumnTypeEnum.Text]);
  });

  it("reads migration directories oldest first, with the lockfile and missing files flagged", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "orderflow-migrations-"));
    for (const name of ["20260102000000_second", "20260101000000_first"]) {
      mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, name, "migration.sql"), `-- ${name}\n`);
    }
    mkdirSync(path.join(dir, "20260103000000_broken"));
    writeFileSync(path.join(dir, "migration_lock.toml"), LOCKFILE_CONTENT);
    const list = await readMigrations(dir);
    expect(list.migrationDirectories.map((d) => d.path)).toEqual(["20260101000000_first", "20260102000000_second", "20260103000000_broken"]);
    expect(list.migrationDirectories[0]?.migrationFile.content).toEqual({ tag: "ok", value: "-- 20260101000000_first\n" });
    expect(list.migrationDirectories[2]?.migrationFile.content.tag).toBe("error");
    expect(list.lockfile.content).toContain('provider = "postgresql"');
  });
});

describe("client generation marker", () => {
  it("changes with the schema and is absent for an empty output directory", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "orderflow-schema-"));
    const schema = path.join(dir, "schema.prisma");
    writeFileSync(schema, "model A { id Int @id }\n");
    const first = schemaFingerprint(schema);
    writeFileSync(schema, "model A { id Int @id\n name String }\n");
    expect(schemaFingerprint(schema)).not.toBe(first);
    expect(isClientUpToDate(dir, schema)).toBe(false);
  });
});

describe("catalogue", () => {
  it("ships about 20 valid EUR products", () => {
    const catalogue = loadCatalogue();
    expect(catalogue.currency).toBe("EUR");
    expect(catalogue.products.length).toBeGreaterThanOrEqual(20);
  });

  it("rejects what the database would reject, naming the entry", () => {
    const good = { sku: "A-1", name: "A", priceMinor: 100, stock: 1 };
    expect(() => parseCatalogue({ currency: "eur", products: [good] })).toThrow(CatalogueError);
    expect(() => parseCatalogue({ currency: "EUR", products: [good, good] })).toThrow(/products\[1\]: duplicate sku/);
    expect(() => parseCatalogue({ currency: "EUR", products: [{ ...good, priceMinor: 9.99 }] })).toThrow(/priceMinor/);
    expect(() => parseCatalogue({ currency: "EUR", products: [{ ...good, stock: -1 }] })).toThrow(/stock/);
  });
});
