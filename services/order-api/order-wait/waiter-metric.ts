import { Gauge, type Registry } from "prom-client";
import type { OrderStatusWatcher } from "./order-status-watcher.ts";

const watchers = new WeakMap<Registry, Set<OrderStatusWatcher>>();

/** order_api_prefer_waiters: requests held by Prefer: wait right now (summed over the watchers of this registry). */
export function registerWaiterGauge(registry: Registry, watcher: OrderStatusWatcher): () => void {
  let set = watchers.get(registry);
  if (!set) {
    const tracked = new Set<OrderStatusWatcher>();
    set = tracked;
    watchers.set(registry, tracked);
    new Gauge({
      name: "order_api_prefer_waiters",
      help: "Requests held by Prefer: wait right now (bounded by ORDER_WAIT_MAX_WAITERS).",
      registers: [registry],
      collect() {
        let total = 0;
        for (const each of tracked) total += each.waiting;
        this.set(total);
      },
    });
  }
  set.add(watcher);
  const owned = set;
  return () => owned.delete(watcher);
}
