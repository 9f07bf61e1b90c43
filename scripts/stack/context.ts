import { mkdirSync } from "node:fs";
import { loadStackConfig, stackPaths, type StackConfig, type StackPaths } from "./stack-config.ts";

export interface StackContext {
  config: StackConfig;
  paths: StackPaths;
  /** Runs a long step with a progress line before and the elapsed time after ("kafka: resolving jars ... 41.2s"). */
  step<T>(component: string, what: string, work: () => Promise<T>): Promise<T>;
  /** One informational line. */
  info(component: string, message: string): void;
  /** Aborted when another step of the same `stack up` failed: long installs stop instead of running on. */
  signal: AbortSignal | undefined;
}

function elapsed(startedAt: number): string {
  return `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
}

export function createStackContext(env: NodeJS.ProcessEnv = process.env): StackContext {
  const paths = stackPaths();
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.run, { recursive: true });
  const out = (line: string) => process.stderr.write(`${line}\n`);
  return {
    config: loadStackConfig(env),
    paths,
    signal: undefined,
    info: (component, message) => out(`  ${component.padEnd(9)} ${message}`),
    async step(component, what, work) {
      const startedAt = Date.now();
      out(`  ${component.padEnd(9)} ${what} ...`);
      // A heartbeat so a 5-minute build never looks hung.
      const heartbeat = setInterval(() => out(`  ${component.padEnd(9)} ${what} ... still working (${elapsed(startedAt)})`), 30_000);
      try {
        const result = await work();
        out(`  ${component.padEnd(9)} ${what} done in ${elapsed(startedAt)}`);
        return result;
      } finally {
        clearInterval(heartbeat);
      }
    },
  };
}
