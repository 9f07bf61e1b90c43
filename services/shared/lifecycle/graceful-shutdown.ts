import type { Logger } from "../logging/create-logger.ts";

export interface GracefulShutdownOptions {
  logger: Logger;
  /** How long `stop` may take before the process exits anyway (exit code 1): a hung dependency must not keep it alive. */
  graceMs: number;
  /** Drains in-flight work, commits, disconnects. Runs once, whatever triggered the shutdown. */
  stop: (reason: string) => Promise<void>;
  /** Flushes telemetry last, so the spans of the drain itself are exported. */
  telemetry?: { shutdown(): Promise<void> };
}

/** Starts a shutdown by hand (a fatal error, a failed start); SIGTERM and SIGINT call it too. */
export type Shutdown = (reason: string, exitCode?: number) => Promise<void>;

/**
 * One shutdown path for every service: SIGTERM/SIGINT (or a call) runs `stop` once, bounded by the grace period,
 * flushes telemetry and logs, then exits. A second signal exits at once.
 */
export function installGracefulShutdown(options: GracefulShutdownOptions): Shutdown {
  const { logger } = options;
  let stopping = false;
  const shutdown: Shutdown = async (reason, exitCode = 0) => {
    if (stopping) {
      logger.warn({ reason }, "second shutdown request: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ reason, grace_ms: options.graceMs }, "shutting down: draining in-flight work");
    const deadline = setTimeout(() => {
      logger.error({ grace_ms: options.graceMs }, "shutdown grace period exceeded; exiting");
      logger.flush();
      process.exit(1);
    }, options.graceMs);
    deadline.unref();
    let code = exitCode;
    await options.stop(reason).catch((error: unknown) => {
      logger.error({ err: error }, "shutdown step failed");
      code = 1;
    });
    await options.telemetry?.shutdown().catch((error: unknown) => logger.warn({ err: error }, "telemetry flush failed"));
    logger.info({ exit_code: code }, "stopped");
    logger.flush();
    process.exit(code);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  return shutdown;
}

/** Resolves "timeout" after `ms` (unref'd): for racing one drain step against its share of the grace period. */
export function deadline(ms: number): Promise<"timeout"> {
  return new Promise((resolve) => setTimeout(() => resolve("timeout"), ms).unref());
}
