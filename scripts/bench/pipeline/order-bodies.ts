import type { CatalogueProduct } from "./bench-database.ts";

/** A deterministic pseudo-random sequence (mulberry32), so two runs offer the same orders. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * POST /orders bodies spread over the catalogue: 1-3 lines of 1-3 units, customers bench-0..999 (no prefix that the
 * simulated provider declines or leaves pending), so with the raised stock every order takes the happy path.
 */
export function happyPathBodies(products: readonly CatalogueProduct[], count: number, seed = 42): string[] {
  const currency = products[0]?.currency ?? "EUR";
  const skus = products.filter((p) => p.currency === currency).map((p) => p.sku);
  if (skus.length === 0) throw new Error("the benchmark database has no active products");
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const lines = 1 + Math.floor(random() * Math.min(3, skus.length));
    const start = Math.floor(random() * skus.length);
    const items = Array.from({ length: lines }, (_, i) => ({ sku: skus[(start + i) % skus.length]!, quantity: 1 + Math.floor(random() * 3) }));
    return JSON.stringify({ customerId: `bench-${Math.floor(random() * 1000)}`, currency, items });
  });
}

/** Flash sale: every order wants one unit of the same SKU. */
export function flashSaleBodies(sku: string, currency: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => JSON.stringify({ customerId: `flash-${i % 1000}`, currency, items: [{ sku, quantity: 1 }] }));
}
