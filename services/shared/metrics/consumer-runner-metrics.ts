import { performance } from "node:perf_hooks";
import type { ConsumerDefinition, HandlerMap, PreparedHandler } from "../consumer/consumer-handler.ts";
import type { EventType } from "../events/topic-catalogue.ts";
import type { ConsumerRunner } from "../consumer/consumer-runner.ts";
import type { Registry } from "./metrics-registry.ts";
import { consumerMetrics } from "./orderflow-metrics.ts";

/**
 * The same definition with every handler timed into orderflow_consumer_processing_duration_seconds (outcome ok /
 * error per attempt). The runner itself stays free of metrics code.
 */
export function timedDefinition(definition: ConsumerDefinition, registry: Registry): ConsumerDefinition {
  const { processingDuration } = consumerMetrics(registry);
  const handlers: Record<string, unknown> = {};
  const timed =
    (run: (event: { topic: string }, ctx: unknown, prepared?: unknown) => Promise<void>) =>
    async (event: { topic: string }, ctx: unknown, prepared?: unknown) => {
      const started = performance.now();
      let outcome = "error";
      try {
        await run(event, ctx, prepared);
        outcome = "ok";
      } finally {
        processingDuration.observe({ consumer_group: definition.group, topic: event.topic, outcome }, (performance.now() - started) / 1000);
      }
    };
  for (const [eventType, handler] of Object.entries(definition.handlers)) {
    if (handler === undefined) continue;
    // A prepared handler keeps its shape (the runner calls prepare before the transaction); its apply is timed.
    if (typeof handler === "object") {
      const spec = handler as PreparedHandler<EventType>;
      handlers[eventType] = { ...spec, apply: timed((event, ctx, prepared) => spec.apply(event as never, ctx as never, prepared)) };
      continue;
    }
    handlers[eventType] = timed((event, ctx) => (handler as (event: unknown, ctx: unknown) => Promise<void>)(event, ctx));
  }
  return { ...definition, handlers: handlers as HandlerMap };
}

/** Retries (attempts beyond the first) and dead letters, from the runner's outcome events. */
export function countRunnerOutcomes(runner: ConsumerRunner, group: string, registry: Registry): void {
  const { retries, deadLetters } = consumerMetrics(registry);
  runner.onOutcome((record) => {
    if (record.attempts > 1) retries.inc({ consumer_group: group, topic: record.topic }, record.attempts - 1);
    if (record.outcome === "dead-lettered") deadLetters.inc({ consumer_group: group, topic: record.topic });
  });
}
