import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface RelayProcess {
  child: ChildProcess;
  /** Every JSON log line the relay printed so far (stdout). */
  logs: Array<Record<string, unknown>>;
  /** Resolves once the relay logged `msg`; rejects after the bound or when the process exits first. */
  waitForLog(msg: string, timeoutMs: number): Promise<Record<string, unknown>>;
  /** SIGTERM and wait for the exit code (bounded). */
  stop(timeoutMs?: number): Promise<number | null>;
  kill(): Promise<void>;
}

/** Runs services/outbox-relay/main.ts as a child process (telemetry off) with the given environment overrides. */
export function spawnRelay(env: Record<string, string>): RelayProcess {
  // node itself with tsx's loader, not the tsx CLI: the CLI runs the script in a grandchild, so a SIGKILL of the
  // CLI would leave the relay running.
  const child = spawn(process.execPath, ["--import", "tsx", "services/outbox-relay/main.ts"], {
    cwd: repo,
    env: { ...process.env, OTEL_SDK_DISABLED: "true", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Array<Record<string, unknown>> = [];
  let buffered = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr!.on("data", () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  return {
    child,
    logs,
    async waitForLog(msg, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find((line) => line.msg === msg);
        if (found) return found;
        if (child.exitCode !== null) throw new Error(`relay exited (${child.exitCode}) before logging "${msg}": ${JSON.stringify(logs.slice(-5))}`);
        if (Date.now() > deadline) throw new Error(`relay did not log "${msg}" within ${timeoutMs} ms: ${JSON.stringify(logs.slice(-5))}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs).unref());
      const code = await Promise.race([exited, timer]);
      if (child.exitCode === null) child.kill("SIGKILL");
      return code;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
