import { describe, expect, it } from "vitest";
import { raw, sql } from "./sql.ts";

describe("sql``", () => {
  it("makes every interpolation a numbered parameter and splices fragments as text", () => {
    const query = sql`SELECT ${raw("id")} FROM orders WHERE customer_id = ${"c-1"} AND total_minor > ${500}`;
    expect(query.text).toBe("SELECT id FROM orders WHERE customer_id = $1 AND total_minor > $2");
    expect(query.values).toEqual(["c-1", 500]);
  });

  it("splices a nested query with its parameters renumbered after the outer ones (a CTE made of two modules' statements)", () => {
    const inner = sql`INSERT INTO outbox (key, topic) SELECT ${"k"}, ${"t"} WHERE ${sql`EXISTS (SELECT 1 FROM new_order WHERE id = ${"o-1"})`}`;
    const outer = sql`WITH new_order AS (SELECT ${"o-1"} AS id), placed AS (${inner}) SELECT ${42}`;
    expect(outer.text).toBe(
      "WITH new_order AS (SELECT $1 AS id), placed AS (INSERT INTO outbox (key, topic) SELECT $2, $3 WHERE EXISTS (SELECT 1 FROM new_order WHERE id = $4)) SELECT $5",
    );
    expect(outer.values).toEqual(["o-1", "k", "t", "o-1", 42]);
  });

  it("names the statement by its text, so one call site is one prepared statement", () => {
    const a = sql`SELECT ${1}`;
    const b = sql`SELECT ${2}`;
    expect(a.name).toBe(b.name);
    expect(sql`SELECT ${1}, ${2}`.name).not.toBe(a.name);
  });
});
