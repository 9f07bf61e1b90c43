/**
 * The main() of every consumer service. The service's main.ts starts telemetry first (instrumentation must hook
 * pg and kafkajs before they load), then imports this and calls runConsumerService:
 *
 *   const telemetry = startTelemetry({ serviceName: "inventory" });
 *   const { runConsumerService } = await import("../shared/consumer/run-consumer-service.ts");
 *   const { inventoryConsumer } = await import("./inventory-consumer.ts");
 *   await runConsumerService({ serviceName: "inventory", telemetry, definition: inventoryConsumer });
 */
import { loadConfig } from "../config/load-config.ts";
import { createLogger } from "../logging/create-logger.ts";
import type { Telemetry } from "../telemetry/start-telemetry.ts";
import type { ConsumerDefinition } from "./consumer-handler.ts";
import { createConsumerClients, createRunner, type ConsumerClients } from "./consumer-setup.ts";
import { countRunnerOutcomes, timedDefinition } from "../metrics/consumer-runner-metrics.ts";
import { serveProcessMetrics } from "../metrics/serve-process-metrics.ts";
import { installGracefulShutdown } from "../lifecycle/graceful-shutdown.ts";
import { inboxRetentionExtension } from "./inbox.ts";

/** Something a service runs beside its consumer (a periodic job, a small HTTP endpoint), stopped before it. */
export interface ServiceExtension {
  name: string;
  start(clients: ConsumerClients): Promise<{ stop(): Promise<void> }>;
}

export interface ConsumerServiceOptions {
  serviceName: string;
  telemetry: Telemetry;
  definition: ConsumerDefinition;
  extensions?: readonly ServiceExtension[];
}

export async function runConsumerService(options: ConsumerServiceOptions): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: options.serviceName, level: config.LOG_LEVEL });
  const clients = createConsumerClients(config, logger, options.serviceName);
  const metrics = await serveProcessMetrics(config, options.serviceName, logger);
  const runner = createRunner(timedDefinition(options.definition, metrics.registry), clients);
  countRunnerOutcomes(runner, options.definition.group, metrics.registry);
  const started: Array<{ name: string; stop(): Promise<void> }> = [];

  const shutdown = installGracefulShutdown({
    logger,
    graceMs: config.SHUTDOWN_GRACE_MS + 2_000,
    telemetry: options.telemetry,
    stop: async () => {
      for (const extension of started.reverse())
        await extension.stop().catch((error: unknown) => logger.warn({ err: error, extension: extension.name }, "extension stop failed"));
      await runner.stop(); // finishes the in-flight message, commits, leaves the group
      await metrics.server.close();
      await clients.close();
    },
  });
  runner.onFatal((error) => {
    logger.fatal({ err: error }, "consumer stopped for good");
    void shutdown("consumer crash", 1);
  });

  try {
    await runner.start();
    // Every consumer service purges its own group's inbox (inbox.ts) beside its own extensions.
    for (const extension of [inboxRetentionExtension(options.definition.group), ...(options.extensions ?? [])]) {
      const handle = await extension.start(clients);
      started.push({ name: extension.name, stop: () => handle.stop() });
    }
    logger.info({ group: options.definition.group, extensions: started.map((e) => e.name) }, `${options.serviceName} running`);
  } catch (error) {
    logger.fatal({ err: error }, `${options.serviceName} failed to start`);
    await shutdown("start failed", 1);
  }
}
