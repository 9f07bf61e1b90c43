import type { OrderPlacedPayload, StockLine, StockShortage } from "../shared/events/event-payloads.ts";
import type { EventEnvelope, HandlerContext } from "../shared/consumer/consumer-handler.ts";
import { lockOrders } from "../shared/consumer/order-tombstones.ts";
import { sql, type SqlExecutor } from "../shared/db/sql.ts";

/**
 * Set-based stock for one transaction of the inventory group (ConsumerDefinition.beginRun / finishRun). At the
 * start, beginStockRun takes every lock the run's events need, in one global order: the orders' advisory locks
 * (lockOrders: sorted, the keys lockOrder() takes), then every stock row the run touches, FOR UPDATE by SKU, which also
 * reads their current values. The handlers then reserve, release and commit against this ledger in memory, in
 * offset order, and finishStockRun writes the net change of every row in ONE guarded UPDATE.
 *
 * No oversell: the rows are locked from the first statement to the commit, so the ledger's `available` is what the
 * table holds, and every decision (all lines of an order or none) is made on it in order; the final UPDATE still
 * refuses a row that would go negative, which rolls the whole transaction back. A row is locked once per run, for
 * the run's transaction only, instead of once per order line.
 */
export class StockLedger {
  private readonly available: Map<string, number>;
  private readonly changes = new Map<string, { available: number; reserved: number }>();

  constructor(
    available: ReadonlyMap<string, number>,
    /** Orders this group already ended (tombstones): an OrderPlaced of one reserves nothing. */
    readonly ended: Set<string>,
    /** Orders that already hold reservations: a second OrderPlaced reserves nothing. */
    readonly reserved: Set<string>,
  ) {
    this.available = new Map(available);
  }

  /** Takes every line or none; returns the shortages (empty when reserved). A SKU without a stock row has 0. */
  reserve(lines: readonly StockLine[]): StockShortage[] {
    const shortages = lines
      .filter((line) => (this.available.get(line.sku) ?? 0) < line.quantity)
      .map((line) => ({ sku: line.sku, requested: line.quantity, available: this.available.get(line.sku) ?? 0 }));
    if (shortages.length > 0) return shortages;
    for (const line of lines) this.move(line.sku, -line.quantity, line.quantity);
    return [];
  }

  /** Reserved units leave `reserved`; on a release they go back to available (and can be reserved again in this run). */
  settle(lines: readonly StockLine[], returnToAvailable: boolean): void {
    for (const line of lines) this.move(line.sku, returnToAvailable ? line.quantity : 0, -line.quantity);
  }

  /** The net change of every row touched, sorted by SKU. */
  netChanges(): Array<{ sku: string; available: number; reserved: number }> {
    return [...this.changes]
      .filter(([, change]) => change.available !== 0 || change.reserved !== 0)
      .map(([sku, change]) => ({ sku, ...change }))
      .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  }

  private move(sku: string, available: number, reserved: number): void {
    this.available.set(sku, (this.available.get(sku) ?? 0) + available);
    const change = this.changes.get(sku) ?? { available: 0, reserved: 0 };
    change.available += available;
    change.reserved += reserved;
    this.changes.set(sku, change);
  }
}

/** The run's ledger; a handler outside a run of the inventory definition is a programming error. */
export function ledgerOf(ctx: HandlerContext): StockLedger {
  if (!(ctx.run instanceof StockLedger)) throw new Error("inventory handlers need the StockLedger of beginStockRun (ConsumerDefinition.beginRun)");
  return ctx.run;
}

export async function beginStockRun(events: readonly EventEnvelope[], db: SqlExecutor, group: string): Promise<StockLedger> {
  const orderIds = [...new Set(events.map((event) => event.orderId))];
  const placed = events.filter((event) => event.eventType === "OrderPlaced");
  const skus = new Set(placed.flatMap((event) => (event.payload as OrderPlacedPayload).items.map((item) => item.sku)));
  const settled = events.filter((event) => event.eventType !== "OrderPlaced").map((event) => event.orderId);
  if (orderIds.length === 0) return new StockLedger(new Map(), new Set(), new Set());
  // Its own statement, first: the statements after it take fresh snapshots, so they see what a transaction we
  // waited for committed (order-tombstones.ts).
  await lockOrders(db, group, orderIds);
  const stock = await db.rows<{ sku: string; available: number }>(sql`
    SELECT sku, available FROM stock
     WHERE sku = ANY(${[...skus]}::text[])
        OR sku IN (SELECT sku FROM stock_reservations WHERE order_id = ANY(${settled}::uuid[]))
     ORDER BY sku
       FOR UPDATE`);
  const placedIds = placed.map((event) => event.orderId);
  const known =
    placedIds.length === 0
      ? []
      : await db.rows<{ order_id: string; kind: "ended" | "reserved" }>(sql`
    SELECT order_id::text, 'ended' AS kind FROM order_tombstones WHERE consumer_group = ${group} AND order_id = ANY(${placedIds}::uuid[])
    UNION ALL
    SELECT DISTINCT order_id::text, 'reserved' AS kind FROM stock_reservations WHERE order_id = ANY(${placedIds}::uuid[])`);
  return new StockLedger(
    new Map(stock.map((row) => [row.sku, Number(row.available)])),
    new Set(known.filter((row) => row.kind === "ended").map((row) => row.order_id)),
    new Set(known.filter((row) => row.kind === "reserved").map((row) => row.order_id)),
  );
}

/** One guarded UPDATE for every row the run changed; a row that would go negative rolls everything back. */
export async function finishStockRun(run: unknown, db: SqlExecutor): Promise<void> {
  if (!(run instanceof StockLedger)) throw new Error("finishStockRun needs the StockLedger of beginStockRun");
  const changes = run.netChanges();
  if (changes.length === 0) return;
  const updated = await db.execute(sql`
    UPDATE stock AS s SET available = s.available + c.available, reserved = s.reserved + c.reserved, updated_at = now()
      FROM unnest(${changes.map((c) => c.sku)}::text[], ${changes.map((c) => c.available)}::int[], ${changes.map((c) => c.reserved)}::int[]) AS c(sku, available, reserved)
     WHERE s.sku = c.sku AND s.available + c.available >= 0 AND s.reserved + c.reserved >= 0`);
  if (updated !== changes.length) throw new Error(`stock changed under a locked run: ${updated} of ${changes.length} rows could take their change`);
}
