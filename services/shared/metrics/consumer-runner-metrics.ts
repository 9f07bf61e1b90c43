import { performance } from "node:perf_hooks";
import type { ConsumerDefinition, HandlerMap } from "../consumer/consumer-handler.ts";
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
  for (const [eventType, handler] of Object.entries(definition.handlers)) {
    if (handler === undefined) continue;
    handlers[eventType] = async (event: { topic: string }, ctx: unknown) => {
      const started = performance.now();
      let outcome = "error";
      try {
        await (handler as (event: unknown, ctx: unknown) => Promise<void>)(event, ctx);
        outcome = "ok";
      } finally {
        processingDuration.observe({ consumer_group: definition.group, topic: event.topic, outcome }, (performance.now() - started) / 1000);
      }
    };
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
