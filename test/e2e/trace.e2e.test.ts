import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { traceIdOf } from "../../services/order-api/monitor/recent-orders.ts";
import { fetchTrace, waitForTrace, type TraceSpan } from "../support/jaeger-traces.ts";
import { createProducts, waitForTerminal } from "../support/order-fixtures.ts";
import { Pipeline } from "../support/pipeline.ts";

const SKU = `TRACE-${randomBytes(3).toString("hex").toUpperCase()}`;
const SERVICES = ["order-api", "outbox-relay", "inventory", "payment", "order-state", "notification"];
/** Who writes the outbox row of each event type: the parent of the relay's publish span must be that service's span. */
const WRITER: Record<string, string> = {
  OrderPlaced: "order-api",
  StockReserved: "inventory",
  PaymentAuthorized: "payment",
  OrderConfirmed: "order-state",
};

function publishOf(spans: TraceSpan[], eventType: string): TraceSpan | undefined {
  return spans.find((span) => span.service === "outbox-relay" && span.tags["orderflow.event_type"] === eventType);
}

/** Consumer process spans of a service (kind consumer), e.g. inventory processing OrderPlaced. */
function processSpans(spans: TraceSpan[], service: string): TraceSpan[] {
  return spans.filter((span) => span.service === service && span.kind === "consumer");
}

/**
 * Whole: every service and publish is there, and every span's parent has arrived too. Each process exports in
 * batches (500 ms), so a child can reach Jaeger before its parent: the relay may publish a row before the consumer
 * span that wrote it has ended and been flushed.
 */
function isComplete(spans: TraceSpan[]): boolean {
  const ids = new Set(spans.map((span) => span.spanId));
  if (!spans.every((span) => span.parentSpanId === null || ids.has(span.parentSpanId))) return false;
  return (
    SERVICES.every((service) => spans.some((span) => span.service === service)) &&
    Object.keys(WRITER).every((type) => publishOf(spans, type) !== undefined) &&
    processSpans(spans, "notification").length >= 2
  );
}

/**
 * Complete and no longer growing: the same span count on three reads 500 ms apart. Later hops (a run's events
 * coalesced with other partitions', the relay's publish of the last outcome) can still be flushing when the trace
 * first looks complete; the assertions below read the whole trace, not a moment of it.
 */
function settled(): (spans: TraceSpan[]) => boolean {
  const counts: number[] = [];
  return (spans) => {
    counts.push(spans.length);
    const lastThree = counts.slice(-3);
    return isComplete(spans) && lastThree.length === 3 && lastThree.every((count) => count === spans.length);
  };
}

describe("one trace per order", () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await Pipeline.start({ name: "trace", env: { OTEL_SDK_DISABLED: "false" } });
    await createProducts(pipeline.prisma, [{ sku: SKU, priceMinor: 1250, stock: 10 }]);
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it("follows the order from POST /orders through the relay and every consumer to the notification", async () => {
    const response = await pipeline.request("POST", "/orders", { body: { customerId: "trace-e2e", currency: "EUR", items: [{ sku: SKU, quantity: 1 }] } });
    expect(response.status).toBe(201);
    const traceId = traceIdOf(response.headers.get("traceparent"));
    expect(traceId).not.toBeNull();
    const { orderId } = (await response.json()) as { orderId: string };
    const outboxRow = await pipeline.prisma.outbox.findFirst({ where: { key: orderId, eventType: "OrderPlaced" } });
    expect(traceIdOf((outboxRow?.headers as { traceparent?: string } | null)?.traceparent ?? null)).toBe(traceId);

    expect((await waitForTerminal(pipeline.prisma, [orderId], 60_000)).get(orderId)).toBe("CONFIRMED");
    const spans = await waitForTrace(traceId!, settled(), 60_000);
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const parentOf = (span: TraceSpan | undefined): TraceSpan | undefined => (span?.parentSpanId ? byId.get(span.parentSpanId) : undefined);

    // One trace, every service in it, and exactly one root: the API's HTTP server span.
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([traceId]));
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(SERVICES));
    const roots = spans.filter((span) => span.parentSpanId === null);
    expect(roots.map((span) => `${span.service}:${span.kind}`)).toEqual(["order-api:server"]);

    // Each relay publish hangs under the span of the service that wrote its outbox row...
    for (const [eventType, writer] of Object.entries(WRITER)) {
      const publish = publishOf(spans, eventType)!;
      expect(publish.kind, `${eventType} publish kind`).toBe("producer");
      expect(parentOf(publish)?.service, `parent of the ${eventType} publish`).toBe(writer);
    }
    // ...and each consumer's process span hangs under the relay's publish of the event it consumed.
    for (const service of ["inventory", "payment", "order-state", "notification"]) {
      const processed = processSpans(spans, service);
      expect(processed.length, `${service} process spans`).toBeGreaterThan(0);
      for (const span of processed) {
        const parent = parentOf(span);
        expect(parent?.service, `parent of ${service} ${span.name}`).toBe("outbox-relay");
        expect(parent?.kind).toBe("producer");
        expect(span.tags["messaging.destination.name"] ?? span.tags["messaging.source.name"]).toBe(parent?.tags["messaging.destination.name"]);
      }
    }
    // The hops in order: API -> relay -> inventory -> relay -> order-state -> relay -> notification.
    const confirmedPublish = publishOf(spans, "OrderConfirmed")!;
    const notified = processSpans(spans, "notification").find((span) => span.parentSpanId === confirmedPublish.spanId);
    expect(notified, "notification processing OrderConfirmed").toBeDefined();
    const chain: string[] = [];
    for (let span: TraceSpan | undefined = notified; span; span = parentOf(span)) chain.unshift(span.service);
    const hops = chain.filter((service, index) => service !== chain[index - 1]);
    expect(hops[0]).toBe("order-api");
    expect(hops.slice(-2)).toEqual(["outbox-relay", "notification"]);
    expect(hops).toContain("order-state");
    expect(await fetchTrace(traceId!)).toHaveLength(spans.length);
  });
});
