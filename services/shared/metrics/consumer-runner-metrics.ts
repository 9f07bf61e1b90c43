import { performance } from "node:perf_hooks";
import type { ConsumerDefinition, HandlerMap } from "../consumer/consumer-handler.ts";
import type { EventType } from "../events/topic-catalogue.ts";
import type { ConsumerRunner } from "../consumer/consumer-runner.ts";
import type { Registry } from "./metrics-registry.ts";
import { consumerMetrics } from "./orderflow-metrics.ts";

type Timed = <A extends unknown[]>(work: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;

/**
 * The same definition with every handler timed into orderflow_consumer_processing_duration_seconds (outcome ok /
 * error per attempt). For a prepared handler the effect (apply, inside the transaction) is what is timed; its
 * outside call shows in the trace. The runner itself stays free of metrics code.
 */
export function timedDefinition(definition: ConsumerDefinition, registry: Registry): ConsumerDefinition {
  const { processingDuration } = consumerMetrics(registry);
  const timed: Timed =
    (work) =>
    async (...args) => {
      const started = performance.now();
      let outcome = "error";
      try {
        await work(...args);
        outcome = "ok";
      } finally {
        const topic = (args[0] as { topic: string }).topic;
        processingDuration.observe({ consumer_group: definition.group, topic, outcome }, (performance.now() - started) / 1000);
      }
    };
  const handlers: Record<string, unknown> = {};
  for (const [eventType, handler] of Object.entries(definition.handlers) as Array<[string, HandlerMap[EventType]]>) {
    if (handler === undefined) continue;
    handlers[eventType] = typeof handler === "function" ? timed(handler as (e: unknown, c: unknown) => Promise<void>) : { ...handler, apply: timed(handler.apply as (e: unknown, c: unknown, p: unknown) => Promise<void>) };
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
