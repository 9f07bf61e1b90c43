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
  /** Most waiters held at once; waitForFinal answers "full" beyond it. */
  maxWaiters: number;
  /** Statuses of many orders in one read (the fallback poll of every waiter at once). */
  readStatuses: (orderIds: readonly string[]) => Promise<Map<string, string>>;
  logger: Logger;
}

/** final: the order reached CONFIRMED or CANCELLED; timeout/closed: it did not (yet); full: too many waiters, not waited. */
export type WaitOutcome = "final" | "timeout" | "closed" | "full";

/**
 * Waits for orders to reach a final status, for any number of waiters at the cost of one LISTEN connection per
 * process: a NOTIFY wakes the waiters of its order with the new status (no read), and one timer re-reads the
 * statuses of all waiting orders in one statement per interval, so a lost notification or a reconnecting listener
 * only makes waiting slower, never wrong. The number of waiters is bounded: each holds an HTTP connection.
 */
export class OrderStatusWatcher {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private lastFailureAt = 0;
  private count = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly waiters = new Map<string, Set<(status: string | undefined) => void>>();

  constructor(private readonly options: OrderStatusWatcherOptions) {}

  /** Waiters held right now. */
  get waiting(): number {
    return this.count;
  }

  async waitForFinal(orderId: string, timeoutMs: number): Promise<WaitOutcome> {
    if (this.closed) return "closed";
    if (this.count >= this.options.maxWaiters) return "full";
    this.count += 1;
    try {
      await this.ensureListening();
      return await new Promise<WaitOutcome>((resolve) => {
        const timer = setTimeout(() => finish("timeout"), timeoutMs);
        const waiter = (status: string | undefined): void => {
          if (this.closed) finish("closed");
          else if (status !== undefined && FINAL_STATUSES.has(status)) finish("final");
        };
        const finish = (outcome: WaitOutcome): void => {
          clearTimeout(timer);
          this.removeWaiter(orderId, waiter);
          resolve(outcome);
        };
        this.addWaiter(orderId, waiter);
      });
    } finally {
      this.count -= 1;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    for (const set of [...this.waiters.values()]) for (const wake of [...set]) wake(undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private wake(orderId: string, status: string | undefined): void {
    const set = this.waiters.get(orderId);
    if (set) for (const wake of [...set]) wake(status);
  }

  private addWaiter(orderId: string, waiter: (status: string | undefined) => void): void {
    const set = this.waiters.get(orderId) ?? new Set();
    set.add(waiter);
    this.waiters.set(orderId, set);
    this.pollTimer ??= setInterval(() => void this.pollAll(), this.options.pollIntervalMs);
  }

  private removeWaiter(orderId: string, waiter: (status: string | undefined) => void): void {
    const set = this.waiters.get(orderId);
    set?.delete(waiter);
    if (set?.size === 0) this.waiters.delete(orderId);
    if (this.waiters.size === 0) this.stopPolling();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** The fallback: one read for every waiting order. A failed read is retried at the next interval. */
  private async pollAll(): Promise<void> {
    const ids = [...this.waiters.keys()];
    if (ids.length === 0) return;
    try {
      const statuses = await this.options.readStatuses(ids);
      for (const [orderId, status] of statuses) this.wake(orderId, status);
    } catch (error) {
      this.options.logger.warn({ err: error, waiting: ids.length }, "could not re-read the status of waiting orders; trying again at the next interval");
    }
  }

  /** Best effort: without the listener, waiters still poll. */
  private async ensureListening(): Promise<void> {
    // After a failure, do not make every waiter pay the connect timeout again right away.
    if (this.client || this.closed || Date.now() - this.lastFailureAt < RECONNECT_AFTER_MS) return;
    this.connecting ??= this.listen().finally(() => (this.connecting = undefined));
    await this.connecting;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      application_name: "order-api-wait",
      keepAlive: true,
    });
    client.on("notification", (message) => {
      const [orderId, status] = (message.payload ?? "").split(":");
      if (orderId) this.wake(orderId, status);
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
