import type { StackContext } from "./context.ts";

/**
 * One real piece of the local stack (PostgreSQL, Kafka, the schema registry, Jaeger).
 * Every method is idempotent: `install` skips what is already in .stack/, `start` returns at once when the
 * component is already healthy, `stop` is a no-op when it is not running.
 */
export interface StackComponent {
  /** Short name used in progress output, log file names and error messages ("kafka"). */
  readonly name: string;
  /** What to tell a person when this component fails ("is port 9092 taken? see .stack/logs/kafka.log"). */
  readonly fixHint: string;
  /** Components that must be up before this one starts (its install runs at once, beside theirs). */
  readonly dependsOn?: readonly string[];
  /** Installs into ctx.paths.root/<name>/ when missing. May take minutes on first use; report progress via ctx.step. */
  install(ctx: StackContext): Promise<void>;
  /** A real health check (a protocol round trip, not just an open port). */
  isHealthy(ctx: StackContext): Promise<boolean>;
  /** Starts the process detached (pid file under ctx.paths.run), then waits, bounded, until isHealthy. */
  start(ctx: StackContext): Promise<void>;
  /** SIGTERM, bounded wait, then SIGKILL. Data stays. */
  stop(ctx: StackContext): Promise<void>;
  /** Where its log goes. */
  logFile(ctx: StackContext): string;
  /** One line for `stack status`, e.g. the URL it serves. */
  describe(ctx: StackContext): string;
}
