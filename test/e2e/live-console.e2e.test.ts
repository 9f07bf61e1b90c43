/**
 * The live console in Chromium on the running pipeline: under a steady load its charts gain points by themselves
 * (server-sent events, no reload), the values it shows agree with GET /monitor/lag, the audit's recorded verdict
 * appears with its age, and the dead-letter browser lists a poison record's letter and replays it with the ops token.
 * Screenshots go to test-artifacts/.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProducer } from "../../services/shared/kafka/kafka-client.ts";
import type { LagReport } from "../../services/shared/monitoring/lag-report.ts";
import { launchHeadlessChromium, type HeadlessBrowser } from "../support/headless-chromium.ts";
import { createProducts, waitForTerminal } from "../support/order-fixtures.ts";
import { Pipeline, pollUntil } from "../support/pipeline.ts";

const run = promisify(execFile);
const SKU = `CONSOLE-${randomBytes(3).toString("hex").toUpperCase()}`;
const ARTIFACTS = path.resolve(import.meta.dirname, "..", "..", "test-artifacts");
const MONITOR_TOKEN = "e2e-console-monitor-token-0123";
const OPS_TOKEN = "e2e-console-ops-token-0123456789";
const LOAD_SECONDS = 24;
const ORDERS_PER_SECOND = 5;

async function numberIn(page: Page, selector: string): Promise<number | null> {
  const text = (await page.locator(selector).textContent({ timeout: 5_000 }))?.trim();
  return text === undefined || text === "–" ? null : Number(text);
}

async function points(page: Page, chart: string): Promise<{ points: number; newest: number }> {
  const box = page.locator(`#chart-${chart}`);
  return { points: Number(await box.getAttribute("data-points")), newest: Number(await box.getAttribute("data-newest")) };
}

describe("live console under load", () => {
  let pipeline: Pipeline;
  let browser: HeadlessBrowser | undefined;
  let page: Page;

  const lag = async (): Promise<LagReport> => {
    const response = await pipeline.request("GET", "/monitor/lag?fresh=1", { headers: { authorization: `Bearer ${MONITOR_TOKEN}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as LagReport;
  };

  beforeAll(async () => {
    pipeline = await Pipeline.start({ name: "console", env: { MONITOR_TOKEN, OPS_TOKEN, CONSOLE_SAMPLE_INTERVAL_MS: "1000" } });
    await createProducts(pipeline.prisma, [{ sku: SKU, priceMinor: 1500, stock: 100_000 }]);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
  });

  it("records an audit verdict that the console shows with its age", async () => {
    // The real command, against this pipeline's database; database checks only (this file's topics are young).
    const audit = await run("npx", ["tsx", "scripts/audit/audit.ts", "--json", "--no-kafka", "--since", "10m"], {
      env: { ...process.env, DATABASE_URL: pipeline.config.DATABASE_URL, TOPIC_PREFIX: pipeline.config.TOPIC_PREFIX },
      timeout: 120_000,
    }).catch((error: { code?: number; stdout?: string }) => {
      if (error.code === 1 && error.stdout) return { stdout: error.stdout }; // violations: still a recorded verdict
      throw error;
    });
    const verdict = JSON.parse(audit.stdout) as { ok: boolean; violations: number; startedAt: string };

    browser = await launchHeadlessChromium();
    page = await browser.context.newPage();
    await page.goto(`${pipeline.baseUrl}/#token=${MONITOR_TOKEN}&ops=${OPS_TOKEN}`, { timeout: 30_000 });
    await page.locator("#console-status.ok").waitFor({ timeout: 30_000 });
    // This run's verdict (the database may hold older ones): the console reads audit_runs every few samples.
    await page.locator(`#audit[data-started-at="${verdict.startedAt}"] #audit-verdict`).waitFor({ timeout: 30_000 });
    expect(await page.locator("#audit").getAttribute("data-verdict")).toBe(verdict.ok ? "passed" : "failed");
    expect(await page.locator("#audit-verdict").textContent()).toBe(verdict.ok ? "PASSED" : `FAILED: ${verdict.violations} violations`);
    expect(await page.locator("#audit-age").textContent()).toMatch(/finished \d+ s ago/);
  });

  it("draws charts that move by themselves under load, with values that match GET /monitor/lag", async () => {
    const before = await points(page, "orders");
    const placed: string[] = [];
    const failures: number[] = [];
    const started = Date.now();
    let stoppedNotification = false;
    let placedMidLoad = 0;
    // Open loop, bounded: ORDERS_PER_SECOND for LOAD_SECONDS, whatever the answers take.
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < LOAD_SECONDS * ORDERS_PER_SECOND; i += 1) {
      const due = started + (i * 1000) / ORDERS_PER_SECOND;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      inFlight.push(
        pipeline
          .request("POST", "/orders", { body: { customerId: `console-e2e-${i}`, currency: "EUR", items: [{ sku: SKU, quantity: 1 }] } })
          .then(async (response) => {
            if (response.status === 201) placed.push(((await response.json()) as { orderId: string }).orderId);
            else failures.push(response.status);
          }),
      );
      // Halfway, the notification consumer stops: its lag grows, and stays once the load ends.
      if (!stoppedNotification && Date.now() - started > (LOAD_SECONDS * 1000) / 2) {
        stoppedNotification = true;
        placedMidLoad = (await numberIn(page, "#latest-orders-placed")) ?? 0;
        await page.screenshot({ path: path.join(ARTIFACTS, "live-console-under-load.png"), fullPage: true });
        void Promise.all(pipeline.instances("notification").map((p) => p.stop(15_000)));
      }
    }
    await Promise.all(inFlight);
    // A saturated machine may shed some (503 OVERLOADED, the API's documented answer); none may fail otherwise.
    expect(failures.filter((status) => status !== 503)).toEqual([]);
    expect(placed.length).toBeGreaterThan(0);
    const during = await points(page, "orders");
    expect(during.points).toBeGreaterThan(before.points + 5);
    expect(during.newest).toBeGreaterThan(before.newest);
    expect(await numberIn(page, "#latest-lag-inventory")).not.toBeNull();

    expect([...(await waitForTerminal(pipeline.prisma, placed, 120_000)).values()].every((s) => s === "CONFIRMED")).toBe(true);
    // Everyone but notification has caught up; its lag is what it missed. The console's newest sample and a fresh
    // report must agree on every group (bounded wait: the sample is at most one period old).
    let report: LagReport | undefined;
    await pollUntil(
      async () => {
        report = await lag();
        const notification = report.groups.find((g) => g.group === "notification")?.totalLag ?? 0;
        if (notification === 0 || report.errors.length > 0) return undefined;
        for (const group of report.groups) if ((await numberIn(page, `#latest-lag-${group.group}`)) !== group.totalLag) return undefined;
        if ((await numberIn(page, "#latest-outbox-backlog")) !== report.outbox.unpublishedRows) return undefined;
        if ((await numberIn(page, "#latest-problems-dead-letters")) !== report.deadLetters.reduce((sum, d) => sum + d.depth, 0)) return undefined;
        if ((await numberIn(page, "#latest-problems-stuck")) !== report.stuckOrders.count) return undefined;
        return true;
      },
      60_000,
      () => `the console's values to match /monitor/lag ${JSON.stringify(report?.groups.map((g) => [g.group, g.totalLag]))}`,
      500,
    );
    expect(report!.groups.find((g) => g.group === "notification")!.totalLag).toBeGreaterThan(0);
    expect(placedMidLoad).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, "live-console-lag-matches-monitor.png"), fullPage: true });
  });

  it("lists a dead letter with its error headers and replays it with the ops token", async () => {
    const producer = createProducer(pipeline.kafka, { allowAutoTopicCreation: false });
    await producer.connect();
    const key = `poison-${randomBytes(4).toString("hex")}`;
    await producer.send({ topic: `${pipeline.config.TOPIC_PREFIX}orders`, acks: -1, messages: [{ key, value: Buffer.from("not avro at all") }] });
    await producer.disconnect();

    const group = page.locator('#dlq-groups button[data-group="inventory"]');
    await pollUntil(
      async () => ((await group.textContent({ timeout: 5_000 })) === "inventory (1)" ? true : undefined),
      60_000,
      "the inventory group to show one dead letter",
      500,
    );
    await group.click();
    const row = page.locator("#dlq-letters tbody tr", { hasText: key });
    await row.waitFor({ timeout: 30_000 });
    expect(await row.locator("td.error").textContent()).toContain("NOT_WIRE_FORMAT");
    await page.locator("#dead-letters").screenshot({ path: path.join(ARTIFACTS, "live-console-dead-letters.png") });

    const partition = await row.getAttribute("data-partition");
    const offset = await row.getAttribute("data-offset");
    await row.locator("button", { hasText: "Replay" }).click();
    await pollUntil(
      async () => ((await page.locator("#dlq-status").getAttribute("data-replayed")) ? true : undefined),
      30_000,
      "the replay to be confirmed",
      200,
    );
    const from = `${pipeline.config.TOPIC_PREFIX}dlq.inventory/${partition}@${offset}`;
    expect(await page.locator("#dlq-status").textContent()).toBe(`replayed ${from} to ${pipeline.config.TOPIC_PREFIX}orders`);
    // Still poison: back on its topic, inventory dead-letters the replayed copy again, naming where it came from.
    await pollUntil(
      async () => ((await group.textContent({ timeout: 5_000 })) === "inventory (2)" ? true : undefined),
      60_000,
      "the replayed copy to be dead-lettered again",
      500,
    );
    await group.click();
    await page.locator(`#dlq-letters tbody tr[data-replayed-from="${from}"]`).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, "live-console-replayed.png"), fullPage: true });
  });
});
