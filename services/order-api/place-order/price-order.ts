import type { FieldProblem } from "../../shared/errors/coded-error.ts";
import type { PlaceOrderLineInput } from "../routes/order-schemas.ts";

/** What pricing needs to know about a catalogue product. */
export interface CatalogueProduct {
  sku: string;
  priceMinor: bigint;
  currency: string;
  active: boolean;
}

export interface PricedLine {
  sku: string;
  quantity: number;
  unitPriceMinor: number;
  lineTotalMinor: number;
}

export type PricingResult = { ok: true; lines: PricedLine[]; totalMinor: number } | { ok: false; problems: FieldProblem[] };

const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf("currency"));

/** Same SKU twice would make two order_items rows with one primary key: the client must merge them. */
export function findDuplicateSkus(items: readonly PlaceOrderLineInput[]): FieldProblem[] {
  const firstIndex = new Map<string, number>();
  const problems: FieldProblem[] = [];
  items.forEach((item, index) => {
    const first = firstIndex.get(item.sku);
    if (first === undefined) firstIndex.set(item.sku, index);
    else problems.push({ pointer: `/items/${index}/sku`, detail: `duplicates /items/${first}/sku; send one line per SKU` });
  });
  return problems;
}

export function checkCurrency(currency: string): FieldProblem[] {
  return KNOWN_CURRENCIES.has(currency) ? [] : [{ pointer: "/currency", detail: `${currency} is not an ISO-4217 currency` }];
}

function lineProblem(line: PlaceOrderLineInput, index: number, product: CatalogueProduct | undefined, currency: string): FieldProblem | undefined {
  const pointer = `/items/${index}/sku`;
  if (!product) return { pointer, detail: `unknown SKU ${line.sku}` };
  if (!product.active) return { pointer, detail: `SKU ${line.sku} is no longer sold` };
  if (product.currency !== currency) return { pointer, detail: `SKU ${line.sku} is priced in ${product.currency}, the order is in ${currency}` };
  return undefined;
}

/**
 * Prices the lines from the catalogue (never from the client) and reports every bad line at once. Totals stay
 * below 2^53 so they are exact as JSON numbers (quantity <= 1000 and 50 lines make that a price sanity bound).
 */
export function priceOrder(items: readonly PlaceOrderLineInput[], currency: string, catalogue: ReadonlyMap<string, CatalogueProduct>): PricingResult {
  const problems = [...checkCurrency(currency), ...findDuplicateSkus(items)];
  const lines: PricedLine[] = [];
  let total = 0n;
  items.forEach((line, index) => {
    const product = catalogue.get(line.sku);
    const problem = lineProblem(line, index, product, currency);
    if (problem) return void problems.push(problem);
    const lineTotal = product!.priceMinor * BigInt(line.quantity);
    total += lineTotal;
    lines.push({ sku: line.sku, quantity: line.quantity, unitPriceMinor: Number(product!.priceMinor), lineTotalMinor: Number(lineTotal) });
  });
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) problems.push({ pointer: "/items", detail: "the order total is too large" });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, lines, totalMinor: Number(total) };
}
