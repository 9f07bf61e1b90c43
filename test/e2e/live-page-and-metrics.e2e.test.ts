import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { traceIdOf } from "../../services/order-api/monitor/recent-orders.ts";
import { launchHeadlessChromium, type HeadlessBrowser } from "../support/headless-chromium.ts";
import { createProducts, waitForTerminal } from "../support/order-fixtures.ts";
import { Pipeline, pollUntil, type PipelineService } from "../support/pipeline.ts";
import { parsePrometheusText, type PrometheusFamily } from "../support/prometheus-text.ts";

const SKU = `LIVE-${randomBytes(3).toString("hex").toUpperCase()}`;
const ARTIFACTS = path.resolve(import.meta.dirname, "..", "..", "test-artifacts");

async function scrape(url: string): Promise<Map<string, PrometheusFamily>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  expect(response.status, url).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  return parsePrometheusText(await response.text());
}

describe("live page and /metrics on the running pipeline", () => {
  let pipeline: Pipeline;
  let browser: HeadlessBrowser | undefined;
  let orderId: string;
  let traceId: string | null;

  beforeAll(async () => {
    pipeline = await Pipeline.start({ name: "live", env: { OTEL_SDK_DISABLED: "false", METRICS_PORT: "0" } });
    await createProducts(pipeline.prisma, [{ sku: SKU, priceMinor: 4200, stock: 5 }]);
  });

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
  });

  it("shows an order placed while the page is open, with its status and trace links", async () => {
    browser = await launchHeadlessChromium();
    const page = await browser.context.newPage();
    await page.goto(`${pipeline.baseUrl}/`, { timeout: 30_000 });
    await page.locator("#status.ok").waitFor({ timeout: 30_000 });

    const response = await pipeline.request("POST", "/orders", { body: { customerId: "live-page-e2e", currency: "EUR", items: [{ sku: SKU, quantity: 2 }] } });
    expect(response.status).toBe(201);
    orderId = ((await response.json()) as { orderId: string }).orderId;
    traceId = traceIdOf(response.headers.get("traceparent"));
    expect((await waitForTerminal(pipeline.prisma, [orderId], 120_000)).get(orderId)).toBe("CONFIRMED");

    // The page polls by itself: no reload here.
    const row = page.locator(`#orders tr[data-order-id="${orderId}"]`);
    await row.locator("td.status-CONFIRMED").waitFor({ timeout: 20_000 });
    expect(await row.locator("td").nth(2).textContent()).toBe("84.00 EUR");
    const links = await row.locator("a").evaluateAll((anchors) => anchors.map((a) => (a as unknown as { href: string }).href));
    expect(links).toEqual([
      `${pipeline.baseUrl}/console/trace.html?order=${orderId}`,
      `${pipeline.baseUrl}/console/flight-recorder.html?order=${orderId}`,
      `${pipeline.config.JAEGER_QUERY_URL}/api/traces/${traceId}`,
    ]);
    expect(Number(await page.locator("#placed").textContent())).toBeGreaterThanOrEqual(1);
    await page.locator("#groups h2", { hasText: "notification" }).waitFor({ timeout: 10_000 });

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "live-page.png"), fullPage: true });
  });

  it("serves every metric as valid Prometheus text across the API, the relay and the consumers", async () => {
    // From the log file, not the in-memory lines: those are bounded and a busy relay pushes its first lines out.
    const metricsUrl = (service: PipelineService): string => {
      const log = readFileSync(pipeline.instances(service)[0]!.logPath, "utf8");
      const url = /"metrics_url":"([^"]+)"/.exec(log)?.[1];
      expect(url, `${service} logged its metrics URL`).toBeDefined();
      return url!;
    };
    // The backlog gauges are refreshed in the background (a scrape never waits for Kafka): wait, bounded, until a
    // refresh has seen every group.
    const groups = ["inventory", "payment", "order-state", "notification"];
    const api = await pollUntil(
      async () => {
        const families = await scrape(`${pipeline.baseUrl}/metrics`);
        const seen = new Set(families.get("orderflow_consumer_lag_messages")?.samples.map((s) => s.labels.consumer_group));
        return groups.every((group) => seen.has(group)) ? families : undefined;
      },
      30_000,
      "the API's lag gauges to cover every consumer group",
      500,
    );
    const relay = await scrape(metricsUrl("outbox-relay"));
    const consumers = new Map<string, Map<string, PrometheusFamily>>();
    for (const service of ["inventory", "payment", "order-state", "notification"] as const) consumers.set(service, await scrape(metricsUrl(service)));

    const withSamples = (families: Map<string, PrometheusFamily>, name: string, type: string): PrometheusFamily => {
      const family = families.get(name);
      expect(family?.type, name).toBe(type);
      expect(family!.samples.length, `${name} has samples`).toBeGreaterThan(0);
      return family!;
    };
    const postOrders = withSamples(api, "http_server_request_duration_seconds", "histogram").samples.find(
      (s) => s.name.endsWith("_count") && s.labels.http_route === "/orders" && s.labels.http_response_status_code === "201",
    );
    expect(postOrders?.value).toBeGreaterThanOrEqual(1);
    expect(withSamples(api, "orderflow_orders_placed_total", "counter").samples.find((s) => s.labels.currency === "EUR")?.value).toBeGreaterThanOrEqual(1);
    withSamples(api, "orderflow_outbox_backlog_rows", "gauge");
    withSamples(api, "orderflow_outbox_oldest_unpublished_age_seconds", "gauge");
    const lag = withSamples(api, "orderflow_consumer_lag_messages", "gauge");
    expect(new Set(lag.samples.map((s) => s.labels.consumer_group))).toEqual(new Set(["inventory", "payment", "order-state", "notification"]));
    expect(lag.samples.every((s) => s.labels.partition !== undefined && s.labels.topic?.startsWith(pipeline.config.TOPIC_PREFIX))).toBe(true);
    expect(withSamples(api, "orderflow_dead_letter_topic_messages", "gauge").samples).toHaveLength(4);

    expect(
      withSamples(relay, "orderflow_outbox_publish_latency_seconds", "histogram").samples.find((s) => s.name.endsWith("_count"))?.value,
    ).toBeGreaterThanOrEqual(1);
    for (const [service, families] of consumers) {
      expect(
        withSamples(families, "orderflow_consumer_processing_duration_seconds", "histogram").samples.some((s) => s.labels.outcome === "ok"),
        service,
      ).toBe(true);
      // Counters with labels show samples once something happened; the family is declared from the start.
      expect(families.get("orderflow_consumer_retries_total")?.type, service).toBe("counter");
      expect(families.get("orderflow_consumer_dead_letters_total")?.type, service).toBe("counter");
    }
    const terminal = withSamples(consumers.get("order-state")!, "orderflow_order_placed_to_terminal_seconds", "histogram");
    expect(terminal.samples.find((s) => s.name.endsWith("_count") && s.labels.status === "CONFIRMED")?.value).toBeGreaterThanOrEqual(1);
  });
});
