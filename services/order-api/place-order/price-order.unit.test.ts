import { describe, expect, it } from "vitest";
import { priceOrder, type CatalogueProduct } from "./price-order.ts";

const catalogue = new Map<string, CatalogueProduct>(
  [
    { sku: "A", priceMinor: 1999n, currency: "EUR", active: true },
    { sku: "B", priceMinor: 500n, currency: "EUR", active: true },
    { sku: "OLD", priceMinor: 100n, currency: "EUR", active: false },
    { sku: "USD-1", priceMinor: 100n, currency: "USD", active: true },
    { sku: "GOLD", priceMinor: 9_000_000_000_000_000n, currency: "EUR", active: true },
  ].map((product) => [product.sku, product]),
);

describe("priceOrder", () => {
  it("prices lines from the catalogue and sums exactly in minor units", () => {
    const result = priceOrder(
      [
        { sku: "A", quantity: 3 },
        { sku: "B", quantity: 1 },
      ],
      "EUR",
      catalogue,
    );
    expect(result).toEqual({
      ok: true,
      totalMinor: 6497,
      lines: [
        { sku: "A", quantity: 3, unitPriceMinor: 1999, lineTotalMinor: 5997 },
        { sku: "B", quantity: 1, unitPriceMinor: 500, lineTotalMinor: 500 },
      ],
    });
  });

  it("reports every bad line with a pointer", () => {
    const result = priceOrder(
      [
        { sku: "A", quantity: 1 },
        { sku: "NOPE", quantity: 1 },
        { sku: "OLD", quantity: 1 },
        { sku: "USD-1", quantity: 1 },
        { sku: "A", quantity: 2 },
      ],
      "EUR",
      catalogue,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((problem) => "pointer" in problem && problem.pointer).sort()).toEqual([
      "/items/1/sku",
      "/items/2/sku",
      "/items/3/sku",
      "/items/4/sku",
    ]);
  });

  it("rejects unknown currencies and totals beyond 2^53", () => {
    expect(priceOrder([{ sku: "A", quantity: 1 }], "XYZ", catalogue)).toMatchObject({
      ok: false,
      problems: [{ pointer: "/currency" }, { pointer: "/items/0/sku" }],
    });
    expect(priceOrder([{ sku: "GOLD", quantity: 2 }], "EUR", catalogue)).toMatchObject({ ok: false, problems: [{ pointer: "/items" }] });
  });
});
