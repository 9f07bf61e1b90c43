import { collectDefaultMetrics, Registry } from "prom-client";

export type { Registry } from "prom-client";

/** Prometheus text exposition format 0.0.4, what every scraper accepts. */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/**
 * A registry with the process metrics (CPU, memory, event loop lag, GC) and a `service` label on every series, so
 * one Prometheus can scrape every service without relabelling. Tests create their own; services use processRegistry().
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

let processWide: Registry | undefined;

/**
 * The one registry of this process (created on first use with the service name): the HTTP hooks, the relay and the
 * consumer runner all record into it, and /metrics serves it.
 */
export function processRegistry(service: string): Registry {
  processWide ??= createMetricsRegistry(service);
  return processWide;
}
