import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { OrderStatusWatcher } from "../../services/order-api/order-wait/order-status-watcher.ts";
import { registerWaiterGauge } from "../../services/order-api/order-wait/waiter-metric.ts";
import { RelayMetrics } from "../../services/outbox-relay/relay-metrics.ts";
import { exposeRelayMetrics } from "../../services/outbox-relay/relay-prometheus.ts";
import { createMetricsRegistry } from "../../services/shared/metrics/metrics-registry.ts";
import { backlogMetrics, consumerMetrics, httpMetrics, orderMetrics } from "../../services/shared/metrics/orderflow-metrics.ts";

const infra = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../infra");

/** Every series name the services can expose: their definitions registered into one registry, plus suffixes. */
async function knownSeries(): Promise<Set<string>> {
  const registry = createMetricsRegistry("test");
  httpMetrics(registry);
  orderMetrics(registry);
  consumerMetrics(registry);
  backlogMetrics(registry);
  exposeRelayMetrics(registry, new RelayMetrics());
  registerWaiterGauge(registry, { waiting: 0 } as OrderStatusWatcher);
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

const PROMQL_WORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "le", "inf", "nan"]);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, labels or durations. */
export function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  const withoutMatchers = withoutStrings.replace(/\{[^}]*\}/g, "").replace(/\[[^\]]*\]/g, "");
  const withoutGroupings = withoutMatchers.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names = [...withoutGroupings.matchAll(/(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*/g)]
    .filter((match) => !/^\s*\(/.test(withoutGroupings.slice(match.index + match[0].length)))
    .map((match) => match[0]);
  return names.filter((name) => !PROMQL_WORDS.has(name.toLowerCase())).filter((name, index, all) => all.indexOf(name) === index);
}

function ruleExpressions(): string[] {
  const text = readFileSync(path.join(infra, "prometheus/alerts.yml"), "utf8");
  return [...text.matchAll(/^\s*expr:\s*(.+)$/gm)].map((match) => match[1]!.trim());
}

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(path.join(infra, "grafana/dashboards/orderflow-overview.json"), "utf8")) as {
    panels: Array<{ targets: Array<{ expr: string }> }>;
  };
  return dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
}

describe("Prometheus rules and the Grafana dashboard", () => {
  it("extracts metric names and ignores functions, keywords and labels (so an unknown name is caught)", () => {
    expect(metricNamesIn('sum by (le) (rate(foo_bucket{route="/x"}[1m])) / on(job) bar_total > 0 and no_such_metric')).toEqual([
      "foo_bucket",
      "bar_total",
      "no_such_metric",
    ]);
  });

  it("has the alerts issue 13 asks for, each on at least one metric", () => {
    const exprs = ruleExpressions();
    expect(exprs.length).toBe(6);
    for (const expr of exprs) expect(metricNamesIn(expr).length).toBeGreaterThan(0);
  });

  it("refers only to metrics the services define", async () => {
    const known = await knownSeries();
    const used = [...ruleExpressions(), ...dashboardExpressions()].flatMap(metricNamesIn);
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((name) => !known.has(name))).toEqual([]);
  });
});
