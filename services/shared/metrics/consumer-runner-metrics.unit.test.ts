import { describe, expect, it } from "vitest";
import { preparedHandler, type ConsumerDefinition, type EventEnvelope, type HandlerContext, type PreparedHandler } from "../consumer/consumer-handler.ts";
import type { EventPayloads } from "../events/event-payloads.ts";
import { timedDefinition } from "./consumer-runner-metrics.ts";
import { createMetricsRegistry } from "./metrics-registry.ts";

describe("timedDefinition", () => {
  it("keeps a prepared handler's shape (prepare before the transaction, apply timed) and times plain handlers", async () => {
    const calls: string[] = [];
    const definition: ConsumerDefinition = {
      group: "g",
      topics: ["orders"],
      handlers: {
        OrderPlaced: preparedHandler<"OrderPlaced", string>(
          async () => (calls.push("prepare"), "answer"),
          async (_event, _ctx, prepared) => void calls.push(`apply:${prepared}`),
        ),
        OrderCancelled: async () => void calls.push("plain"),
      },
    };
    const timed = timedDefinition(definition, createMetricsRegistry("test")).handlers;
    const placed = timed.OrderPlaced as PreparedHandler<"OrderPlaced">;
    expect(placed.kind).toBe("prepared");
    const event = { topic: "t" } as EventEnvelope<EventPayloads["OrderPlaced"]>;
    const prepared = await placed.prepare(event, {} as never);
    await placed.apply(event, {} as HandlerContext, prepared);
    await (timed.OrderCancelled as (event: unknown, ctx: unknown) => Promise<void>)({ topic: "t" }, {});
    expect(calls).toEqual(["prepare", "apply:answer", "plain"]);
  });
});
