import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Logger } from "../../shared/logging/create-logger.ts";
import { FINAL_STATUSES } from "./prefer-wait.ts";

/** The channel the orders_status_notify trigger announces "<order id>:<status>" on (see the migration). */
export const ORDER_STATUS_CHANNEL = "order_status";
const RECONNECT_AFTER_MS = 5_000;

export interface OrderStatusWatcherOptions {
  databaseUrl: string;
  /** Fallback re-read interval: covers a lost notification or a listener that is reconnecting. */
  pollIntervalMs: number;
  connectTimeoutMs: number;
  logger: Logger;
}

/**
 * Waits for orders to reach a final status. One LISTEN connection per process wakes the waiters of an order when
 * its status changes; each waiter also re-reads the status at a bounded interval, so a dropped connection only
 * makes waiting slower, never wrong. The connection is opened on first use and re-opened after a failure.
 */
export class OrderStatusWatcher {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private lastFailureAt = 0;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly options: OrderStatusWatcherOptions) {}

  /**
   * Resolves with the order's final status once `readStatus` reports one, or with the last status read when
   * `timeoutMs` passes first (undefined when the order does not exist).
   */
  async waitForFinal(orderId: string, timeoutMs: number, readStatus: () => Promise<string | undefined>): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    await this.ensureListening();
    let wake: () => void = () => undefined;
    const waiter = (): void => wake();
    this.addWaiter(orderId, waiter);
    try {
      for (;;) {
        // Registered before reading: a change committed between the read and the wait still wakes us.
        const woken = new Promise<void>((resolve) => (wake = resolve));
        const status = await readStatus();
        const remaining = deadline - Date.now();
        if (status === undefined || FINAL_STATUSES.has(status) || remaining <= 0 || this.closed) return status;
        const abort = new AbortController();
        await Promise.race([woken, sleep(Math.min(remaining, this.options.pollIntervalMs), undefined, { signal: abort.signal }).catch(() => undefined)]);
        abort.abort();
      }
    } finally {
      this.removeWaiter(orderId, waiter);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.waiters.values()) for (const wake of set) wake();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private addWaiter(orderId: string, waiter: () => void): void {
    const set = this.waiters.get(orderId) ?? new Set();
    set.add(waiter);
    this.waiters.set(orderId, set);
  }

  private removeWaiter(orderId: string, waiter: () => void): void {
    const set = this.waiters.get(orderId);
    set?.delete(waiter);
    if (set?.size === 0) this.waiters.delete(orderId);
  }

  /** Best effort: without the listener, waiters still poll. */
  private async ensureListening(): Promise<void> {
    // After a failure, do not make every waiter pay the connect timeout again right away.
    if (this.client || this.closed || Date.now() - this.lastFailureAt < RECONNECT_AFTER_MS) return;
    this.connecting ??= this.listen().finally(() => (this.connecting = undefined));
    await this.connecting;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl, connectionTimeoutMillis: this.options.connectTimeoutMs, application_name: "order-api-wait" });
    client.on("notification", (message) => {
      const orderId = message.payload?.split(":")[0];
      if (orderId) for (const wake of this.waiters.get(orderId) ?? []) wake();
    });
    client.on("error", (error) => {
      this.options.logger.warn({ err: error }, "order status listener failed; waiting falls back to polling until it reconnects");
      if (this.client === client) this.client = undefined;
      this.lastFailureAt = Date.now();
      void client.end().catch(() => undefined);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${ORDER_STATUS_CHANNEL}`);
      if (this.closed) await client.end();
      else this.client = client;
    } catch (error) {
      this.lastFailureAt = Date.now();
      this.options.logger.warn({ err: error }, "could not listen for order status changes; polling instead");
      await client.end().catch(() => undefined);
    }
  }
}
