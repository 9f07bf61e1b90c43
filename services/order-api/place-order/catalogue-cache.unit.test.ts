import { describe, expect, it } from "vitest";
import type { SqlExecutor, SqlQuery } from "../../shared/db/sql.ts";
import { CatalogueCache } from "./catalogue-cache.ts";

function fakeDb(rows: Record<string, { price_minor: string; currency: string; active: boolean }>) {
  const queries: string[][] = [];
  const db: SqlExecutor = {
    rows: async <R extends object>(query: SqlQuery) => {
      const skus = query.values[0] as string[];
      queries.push(skus);
      return skus.filter((sku) => rows[sku]).map((sku) => ({ sku, ...rows[sku] })) as unknown as R[];
    },
    execute: async () => 0,
  };
  return { db, queries };
}

describe("catalogue cache", () => {
  it("queries only missing or stale SKUs, remembers unknown ones, and re-reads after the TTL", async () => {
    let now = 0;
    const { db, queries } = fakeDb({ A: { price_minor: "100", currency: "EUR", active: true } });
    const cache = new CatalogueCache(db, 1000, () => now);
    expect((await cache.lookup(["A", "NOPE"])).get("A")).toEqual({ sku: "A", priceMinor: 100n, currency: "EUR", active: true });
    expect(queries).toEqual([["A", "NOPE"]]);
    now = 999;
    const again = await cache.lookup(["A", "NOPE"]);
    expect(again.has("NOPE")).toBe(false);
    expect(queries).toHaveLength(1);
    now = 1000;
    await cache.lookup(["A"]);
    expect(queries).toEqual([["A", "NOPE"], ["A"]]);
  });

  it("with a TTL of 0 reads every time", async () => {
    const { db, queries } = fakeDb({ A: { price_minor: "1", currency: "EUR", active: true } });
    const cache = new CatalogueCache(db, 0);
    await cache.lookup(["A"]);
    await cache.lookup(["A"]);
    expect(queries).toHaveLength(2);
  });
});
