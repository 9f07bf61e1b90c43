/**
 * What the fuzz run checks beside the status code: the rows each request may have written. Counts the tables a
 * request can write to after every request (the previous count is the next "before"), so a rejected request that
 * wrote anything is caught on the spot; keeps the status histogram and what the successful requests created, so
 * the whole run can be reconciled with the tables at the end.
 */
import type pg from "pg";

export const WRITABLE_TABLES = ["orders", "order_items", "order_status_history", "outbox", "idempotency_keys", "payment_callbacks"] as const;
export type TableCounts = Record<(typeof WRITABLE_TABLES)[number], number>;

const COUNT_SQL = `SELECT ${WRITABLE_TABLES.map((table) => `(SELECT count(*) FROM ${table})::int AS ${table}`).join(", ")}`;

export async function countTables(db: pg.ClientBase): Promise<TableCounts> {
  const { rows } = await db.query<TableCounts>(COUNT_SQL);
  return rows[0] as TableCounts;
}

export function changedTables(before: TableCounts, after: TableCounts): string[] {
  return WRITABLE_TABLES.filter((table) => before[table] !== after[table]).map((table) => `${table} ${before[table]} -> ${after[table]}`);
}

export class FuzzLedger {
  readonly histogram = new Map<string, number>();
  requests = 0;
  /** Orders created by 201 answers that were not replays: id -> number of lines. */
  readonly createdOrders = new Map<string, number>();
  /** Webhook deliveries that stored a new callback row. */
  storedCallbacks = 0;

  record(surface: string, status: number): void {
    this.requests += 1;
    const key = `${surface} ${status}`;
    this.histogram.set(key, (this.histogram.get(key) ?? 0) + 1);
  }

  noteCreated(status: number, headers: Record<string, unknown>, body: string): void {
    if (status !== 201 || headers["idempotency-replayed"] === "true") return;
    const order = JSON.parse(body) as { orderId?: string; items?: unknown[] };
    if (order.orderId) this.createdOrders.set(order.orderId, order.items?.length ?? 0);
  }

  noteCallback(status: number, body: string): void {
    if (status !== 200 && status !== 202) return;
    const outcome = (JSON.parse(body) as { status?: string }).status;
    if (outcome === "stored" || outcome === "applied") this.storedCallbacks += 1;
  }

  /** "POST /orders: 201 x812, 422 x2301 ..." per surface, then per status over all. */
  report(): string {
    const bySurface = new Map<string, string[]>();
    const byStatus = new Map<string, number>();
    for (const [key, count] of [...this.histogram].sort()) {
      const split = key.lastIndexOf(" ");
      const surface = key.slice(0, split);
      const status = key.slice(split + 1);
      bySurface.set(surface, [...(bySurface.get(surface) ?? []), `${status} x${count}`]);
      byStatus.set(status, (byStatus.get(status) ?? 0) + count);
    }
    const lines = [`fuzz: ${this.requests} requests`];
    for (const [surface, counts] of bySurface) lines.push(`  ${surface}: ${counts.join(", ")}`);
    lines.push(
      `  all: ${[...byStatus]
        .sort()
        .map(([status, count]) => `${status} x${count}`)
        .join(", ")}`,
    );
    return lines.join("\n");
  }
}
