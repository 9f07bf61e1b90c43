/**
 * The catalogue as the accept path sees it: prices, currencies and which SKUs are sold, kept in memory for a short
 * TTL so a POST /orders costs no catalogue query unless one of its SKUs is missing or stale. Unknown SKUs are
 * remembered too (for the same TTL), so a flood of bogus SKUs cannot turn into a query per request. A price change
 * reaches new orders within the TTL; orders already accepted keep the price they were accepted at.
 */
import { sql, type SqlExecutor } from "../../shared/db/sql.ts";
import type { CatalogueProduct } from "./price-order.ts";

interface Entry {
  product: CatalogueProduct | undefined;
  loadedAt: number;
}

/** Bounds memory: past this many SKUs the cache starts over (a catalogue this size is re-read lazily). */
const MAX_ENTRIES = 100_000;

export class CatalogueCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly db: SqlExecutor,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The products of `skus` (absent when unknown); one query for the missing or stale ones, none when all are fresh. */
  async lookup(skus: readonly string[]): Promise<Map<string, CatalogueProduct>> {
    const now = this.now();
    const found = new Map<string, CatalogueProduct>();
    let stale: string[] | undefined;
    for (const sku of skus) {
      const entry = this.entries.get(sku);
      if (entry === undefined || now - entry.loadedAt >= this.ttlMs) (stale ??= []).push(sku);
      else if (entry.product) found.set(sku, entry.product);
    }
    if (stale) for (const [sku, product] of await this.load(stale, now)) found.set(sku, product);
    return found;
  }

  private async load(skus: string[], now: number): Promise<Map<string, CatalogueProduct>> {
    const rows = await this.db.rows<{ sku: string; price_minor: string; currency: string; active: boolean }>(
      sql`SELECT sku, price_minor, currency, active FROM products WHERE sku = ANY(${skus}::text[])`,
    );
    const loaded = new Map(rows.map((row) => [row.sku, { sku: row.sku, priceMinor: BigInt(row.price_minor), currency: row.currency, active: row.active }]));
    if (this.ttlMs > 0) {
      if (this.entries.size + skus.length > MAX_ENTRIES) this.entries.clear();
      for (const sku of skus) this.entries.set(sku, { product: loaded.get(sku), loadedAt: now });
    }
    return loaded;
  }
}
