import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicName } from "../../services/shared/config/load-config.ts";
import type { OrderTimeline } from "../../services/order-api/flight-recorder/build-timeline.ts";
import { launchHeadlessChromium, type HeadlessBrowser } from "../support/headless-chromium.ts";
import { readTopicWithConsoleConsumer } from "../support/kafka-console-consumer.ts";
import { createProducts, waitForTerminal } from "../support/order-fixtures.ts";
import { Pipeline, pollUntil } from "../support/pipeline.ts";

const SKU = `FLIGHT-${randomBytes(3).toString("hex").toUpperCase()}`;
const ARTIFACTS = path.resolve(import.meta.dirname, "..", "..", "test-artifacts");
const SERVICES = ["order-api", "outbox-relay", "inventory", "payment", "order-state", "notification"];

describe("trace view and order flight recorder on the running pipeline", () => {
  let pipeline: Pipeline;
  let browser: HeadlessBrowser;
  const orders: Record<"confirmed" | "cancelled" | "stuck", string> = { confirmed: "", cancelled: "", stuck: "" };

  const place = async (customerId: string): Promise<string> => {
    const response = await pipeline.request("POST", "/orders", { body: { customerId, currency: "EUR", items: [{ sku: SKU, quantity: 1 }] } });
    expect(response.status).toBe(201);
    return ((await response.json()) as { orderId: string }).orderId;
  };
  const timeline = async (orderId: string): Promise<OrderTimeline> => {
    const response = await pipeline.request("GET", `/orders/${orderId}/timeline`);
    expect(response.status).toBe(200);
    return (await response.json()) as OrderTimeline;
  };
  const screenshot = async (page: Page, name: string): Promise<void> => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
  };

  beforeAll(async () => {
    pipeline = await Pipeline.start({ name: "flight", env: { OTEL_SDK_DISABLED: "false", METRICS_PORT: "0" } });
    await createProducts(pipeline.prisma, [{ sku: SKU, priceMinor: 1500, stock: 20 }]);
    browser = await launchHeadlessChromium();
    // The simulated provider declines "decline-" customers and leaves "pending-" ones pending (its webhook never comes).
    orders.confirmed = await place("flight-e2e");
    orders.cancelled = await place("decline-flight-e2e");
    orders.stuck = await place("pending-flight-e2e");
    const statuses = await waitForTerminal(pipeline.prisma, [orders.confirmed, orders.cancelled], 120_000);
    expect(Object.fromEntries(statuses)).toEqual({ [orders.confirmed]: "CONFIRMED", [orders.cancelled]: "CANCELLED" });
  });

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
  });

  it("the live page's trace link opens a waterfall with spans of all six services", async () => {
    const live = await browser.context.newPage();
    await live.goto(`${pipeline.baseUrl}/`, { timeout: 30_000 });
    const link = live.locator(`#orders tr[data-order-id="${orders.confirmed}"] a`, { hasText: /^trace$/ });
    await link.waitFor({ timeout: 30_000 });
    expect(await link.getAttribute("href")).toBe(`/console/trace.html?order=${orders.confirmed}`);
    const [page] = await Promise.all([browser.context.waitForEvent("page", { timeout: 10_000 }), link.click()]);
    await page.waitForLoadState();
    expect(new URL(page.url()).pathname).toBe("/console/trace.html");

    // The page polls until the spans stop arriving; wait (bounded) until every service is drawn.
    // A span can reach Jaeger before its parent (each process exports in batches): wait for one root as well.
    await pollUntil(
      async () => {
        const drawn = new Set(
          await page
            .locator("#waterfall .span-row")
            .evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { service: string } }).dataset.service)),
        );
        const roots = await page.locator('#waterfall .span-row[data-depth="0"]').count();
        return SERVICES.every((service) => drawn.has(service)) && roots === 1 ? true : undefined;
      },
      90_000,
      "the waterfall to show spans of every service under one root",
      500,
    );
    const rows = page.locator("#waterfall .span-row");
    expect(await rows.count()).toBeGreaterThanOrEqual(12);
    // One root (the API's POST), children nested below it, and a hop latency on the relay -> consumer spans.
    expect(await page.locator('#waterfall .span-row[data-depth="0"] .service').textContent()).toBe("order-api");
    expect(
      Number(
        await page
          .locator("#waterfall .span-row")
          .evaluateAll((r) => Math.max(...r.map((row) => Number((row as unknown as { dataset: { depth: string } }).dataset.depth)))),
      ),
    ).toBeGreaterThanOrEqual(4);
    expect(await page.locator("#waterfall .bar-text", { hasText: "hop" }).count()).toBeGreaterThan(0);
    expect(await page.locator("#trace-id").textContent()).toMatch(/^[0-9a-f]{32}$/);
    expect(await page.locator("body").textContent()).not.toContain("This is not the Jaeger UI");

    // A click shows the span's attributes (here: the relay's publish of OrderPlaced, with its partition and offset).
    const publish = page.locator("#waterfall .span-row", { hasText: "publish" }).first();
    await publish.click();
    await publish.locator(".span-detail", { hasText: "messaging.destination.name" }).waitFor({ timeout: 5_000 });
    await screenshot(page, "trace-view.png");
    await page.close();
    await live.close();
  });

  it("the flight recorder shows a confirmed order's steps with where each event is in Kafka", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${pipeline.baseUrl}/console/flight-recorder.html?order=${orders.confirmed}`, { timeout: 30_000 });
    await page.locator("#status.status-CONFIRMED").waitFor({ timeout: 30_000 });
    // Every event published, with a partition and an offset, and every consumer group's inbox record.
    await pollUntil(
      async () => ((await page.locator("#events td", { hasText: "not yet" }).count()) === 0 ? true : undefined),
      60_000,
      "every hop of the confirmed order",
      500,
    );
    const types = await page
      .locator("#events tbody tr")
      .evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { eventType: string } }).dataset.eventType));
    // In outbox order: the accept's event first, the decision last.
    expect(types[0]).toBe("OrderPlaced");
    expect(types.at(-1)).toBe("OrderConfirmed");
    expect([...types].sort()).toEqual(["OrderConfirmed", "OrderPlaced", "PaymentAuthorized", "StockReserved"]);
    expect(await page.locator("#events td.offset", { hasText: /^\d+$/ }).count()).toBe(types.length);
    expect(await page.locator("#waiting").isHidden()).toBe(true);
    const sources = new Set(
      await page.locator("#steps tbody tr").evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { source: string } }).dataset.source)),
    );
    expect([...sources].sort()).toEqual(["effect", "inbox", "kafka", "outbox", "status", "trace"]);
    await screenshot(page, "flight-recorder-confirmed.png");
    await page.close();
  });

  it("the flight recorder shows a cancelled order with its reason and compensations", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${pipeline.baseUrl}/console/flight-recorder.html?order=${orders.cancelled}`, { timeout: 30_000 });
    await page.locator("#status.status-CANCELLED").waitFor({ timeout: 30_000 });
    await page.locator("#events tr[data-event-type='OrderCancelled'] td.offset", { hasText: /^\d+$/ }).waitFor({ timeout: 30_000 });
    expect(await page.locator("#events tr[data-event-type='PaymentDeclined']").count()).toBe(1);
    await page.locator("#steps td", { hasText: "status CANCELLED" }).waitFor({ timeout: 10_000 });
    await page.locator("#effects li", { hasText: /^payment: 15\.00 EUR DECLINED \(card_declined\)/ }).waitFor({ timeout: 10_000 });
    await page.locator("#effects li", { hasText: /^stock: 1 × \S+ RELEASED$/ }).waitFor({ timeout: 30_000 });
    expect(await page.locator("#waiting").isHidden()).toBe(true);
    await screenshot(page, "flight-recorder-cancelled.png");
    await page.close();
  });

  it("the flight recorder of a stuck order says what it waits for", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${pipeline.baseUrl}/console/flight-recorder.html?order=${orders.stuck}`, { timeout: 30_000 });
    await page.locator("#status.status-PENDING").waitFor({ timeout: 30_000 });
    // The page refreshes itself while the order is not terminal: first "waits for the stock outcome", then this.
    await page.locator("#waiting-for", { hasText: "pending at the provider" }).waitFor({ timeout: 60_000 });
    const sentence =
      /^The payment \S+ has been pending at the provider for \d+ s: it waits for the provider's callback; the saga cancels the order at its deadline \S+ if no callback comes\.$/;
    expect(await page.locator("#waiting-for").textContent()).toMatch(sentence);
    await screenshot(page, "flight-recorder-stuck.png");
    await page.close();
    const json = await timeline(orders.stuck);
    expect(json.terminal).toBe(false);
    expect(json.waitingFor).toMatch(sentence);
    expect(json.effects.payment?.status).toBe("PENDING");
  });

  it("lists each event at the partition and offset where Kafka's own console consumer finds it", { timeout: 600_000 }, async () => {
    const confirmed = await timeline(orders.confirmed);
    expect(confirmed.events.length).toBeGreaterThanOrEqual(4);
    const fromTimeline = Object.fromEntries(confirmed.events.map((e) => [e.eventId, { topic: e.topic, partition: e.partition, offset: e.offset }]));
    const fromKafka: Record<string, { topic: string; partition: number; offset: string }> = {};
    // One tool per topic, side by side (each mostly waits out its idle timeout): one after the other took a minute.
    const readTopic = async (topic: string) => {
      // The tool's idle timeout starts before its group has joined: on a busy machine a read can end empty, so read
      // again (bounded) until it has as many of the order's records as there are events (which ones is compared below).
      const wanted = confirmed.events.filter((e) => e.topic === topic).length;
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        const records = (await readTopicWithConsoleConsumer(pipeline.config.KAFKA_BROKERS, topicName(pipeline.config, topic), 15_000)).filter(
          (r) => r.key === orders.confirmed,
        );
        for (const record of records) fromKafka[record.headers["event-id"]!] = { topic, partition: record.partition, offset: record.offset };
        if (records.length >= wanted) break;
      }
    };
    await Promise.all([...new Set(confirmed.events.map((e) => e.topic))].map(readTopic));
    expect(fromKafka).toEqual(fromTimeline);
  });
});
