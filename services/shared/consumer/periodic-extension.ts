/**
 * A job that a consumer service runs beside its consumer every interval (reconciliation, deadlines, retention):
 * one pass at a time, the first one interval after the start, failures (e.g. a database outage) logged and retried next interval, stopped between passes
 * (a pass in progress is bounded by its own transaction timeout).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../logging/create-logger.ts";
import type { ConsumerClients } from "./consumer-setup.ts";
import type { ServiceExtension } from "./run-consumer-service.ts";

export interface PeriodicJob {
  stop(): Promise<void>;
}

export interface PeriodicJobOptions {
  intervalMs: number;
  logger: Logger;
  /** One pass; returns how many rows it handled (logged with `doneMessage` when > 0). */
  runOnce(): Promise<number>;
  doneMessage: string;
}

export function startPeriodicJob(options: PeriodicJobOptions): PeriodicJob {
  const abort = new AbortController();
  const loop = (async () => {
    // The first pass waits one interval too: a starting service has its consumer to warm up first.
    await sleep(options.intervalMs, undefined, { signal: abort.signal }).catch(() => undefined);
    while (!abort.signal.aborted) {
      try {
        const handled = await options.runOnce();
        if (handled > 0) options.logger.info({ handled }, options.doneMessage);
      } catch (error) {
        options.logger.warn({ err: error }, "periodic job failed; retrying next interval");
      }
      await sleep(options.intervalMs, undefined, { signal: abort.signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

/** A periodic job as a ServiceExtension: options from the service's clients (config, prisma, logger). */
export function periodicExtension(name: string, options: (clients: ConsumerClients) => Omit<PeriodicJobOptions, "logger">): ServiceExtension {
  return {
    name,
    async start(clients) {
      return startPeriodicJob({ ...options(clients), logger: clients.logger.child({ job: name }) });
    },
  };
}
