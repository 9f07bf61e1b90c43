import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { buildServices, serviceEntry } from "./build-services.ts";
import { prettyLogLine } from "./pretty-log-line.ts";

export interface ServiceSpec {
  name: string;
  instances: number;
}

interface Running {
  label: string;
  child: ChildProcess;
  restarts: number;
}

/** Restarts in a row (each within HEALTHY_AFTER_MS of its start) before the supervisor gives up on an instance. */
const MAX_RESTARTS = 5;
/**
 * An instance that ran this long was healthy: its exit starts the count afresh. Without it every exit of a long
 * life counted (a consumer exits on purpose when its fetches stall, to start afresh), and the sixth, days later,
 * left the service stopped for good.
 */
const HEALTHY_AFTER_MS = 60_000;

/** A person at a terminal gets readable lines; a pipe or file keeps the services' JSON for log collectors. */
function defaultOnLine(label: string, line: string): void {
  const text = process.stdout.isTTY ? prettyLogLine(label, line, { colour: process.env.NO_COLOR === undefined }) : `[${label}] ${line}`;
  process.stdout.write(`${text}\n`);
}

export interface SupervisorOptions {
  /** Node flags put before the script, per instance (the benchmark's --cpu-prof, which Node refuses in NODE_OPTIONS). */
  nodeArgs?: (service: string, label: string) => string[];
  /** Where each output line goes; stdout with a [label] prefix by default (pretty-printed when stdout is a TTY). */
  onLine?: (label: string, line: string) => void;
  /** Restart policy (tests shorten it): a run this long resets the count; the delay before the nth restart. */
  healthyAfterMs?: number;
  restartDelayMs?: (restart: number) => number;
}

/**
 * Runs services as child processes (one per instance), prefixes their output, restarts a crashed instance a bounded
 * number of times, and on stop() sends SIGTERM to all and waits (bounded) so they drain and commit.
 */
export class ServiceSupervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(
    private readonly repo: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly options: SupervisorOptions = {},
  ) {}

  /** The pid of every running instance, by label ("payment#1"): the benchmark reads their CPU from /proc. */
  pids(): Map<string, number> {
    const pids = new Map<string, number>();
    for (const { label, child } of this.running.values()) if (child.pid !== undefined) pids.set(label, child.pid);
    return pids;
  }

  start(specs: readonly ServiceSpec[]): void {
    const startedAt = Date.now();
    const written = buildServices(this.repo);
    if (written > 0) process.stdout.write(`  build     compiled ${written} changed files to dist/ in ${((Date.now() - startedAt) / 1000).toFixed(1)}s\n`);
    for (const spec of specs) {
      for (let i = 1; i <= spec.instances; i += 1) this.spawnInstance(spec.name, `${spec.name}#${i}`, 0);
    }
  }

  private spawnInstance(service: string, label: string, restarts: number): void {
    // Compiled JavaScript on plain node: no loader transpiling in every service process (scripts/run/build-services.ts).
    const nodeArgs = this.options.nodeArgs?.(service, label) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, "--enable-source-maps", serviceEntry(this.repo, service)], {
      cwd: this.repo,
      env: { ...this.env, SERVICE_INSTANCE: label },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: a terminal's Ctrl-C reaches only the supervisor, which then sends exactly one
      // SIGTERM. Otherwise each service got SIGINT from the terminal and SIGTERM from us, and took the second
      // signal as "exit now" instead of draining.
      detached: true,
    });
    const onLine = this.options.onLine ?? defaultOnLine;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => onLine(label, line));
    }
    this.running.set(label, { label, child, restarts });
    const startedAt = Date.now();
    child.on("exit", (code, signal) => {
      const healthy = Date.now() - startedAt >= (this.options.healthyAfterMs ?? HEALTHY_AFTER_MS);
      void this.onExit(service, label, healthy ? 0 : restarts, code, signal);
    });
  }

  private say(line: string): void {
    if (this.options.onLine) this.options.onLine("supervisor", line);
    else process.stdout.write(`${line}\n`);
  }

  private async onExit(service: string, label: string, restarts: number, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.running.delete(label);
    if (this.stopping) return;
    if (restarts >= MAX_RESTARTS) {
      this.say(`[${label}] exited (${code ?? signal}) ${restarts + 1} times in a row: not restarting, see its output above`);
      return;
    }
    const delay = this.options.restartDelayMs?.(restarts) ?? 1000 * 2 ** restarts;
    this.say(`[${label}] exited (${code ?? signal}); restarting in ${delay / 1000}s`);
    await sleep(delay);
    if (!this.stopping) this.spawnInstance(service, label, restarts + 1);
  }

  private stopped: Promise<void> | undefined;

  /** SIGTERM to every instance, then SIGKILL to those still running after graceMs. Idempotent. */
  stop(graceMs: number): Promise<void> {
    this.stopped ??= this.stopAll(graceMs);
    return this.stopped;
  }

  private async stopAll(graceMs: number): Promise<void> {
    this.stopping = true;
    const children = [...this.running.values()].map((r) => r.child);
    const exited = children.map((child) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve()))));
    for (const child of children) child.kill("SIGTERM");
    const timer = setTimeout(() => children.forEach((child) => child.kill("SIGKILL")), graceMs);
    await Promise.all(exited);
    clearTimeout(timer);
  }
}
