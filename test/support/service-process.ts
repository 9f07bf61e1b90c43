import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { buildServices, serviceEntry } from "../../scripts/run/build-services.ts";

/** Log lines kept in memory per process (the full output goes to its log file). */
const MAX_KEPT_LINES = 5_000;

export interface ServiceProcessOptions {
  repo: string;
  service: string;
  label: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
}

/**
 * One service instance as a child process, run exactly as `npm start` runs it (the compiled
 * dist/services/<name>/main.js on plain node, see scripts/run/build-services.ts): its JSON log lines are parsed and kept
 * (bounded) so tests can wait on them, and written whole to <logDir>/<label>.log for diagnosis.
 */
export class ServiceProcess {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>> = [];
  readonly exited: Promise<number | null>;
  private readonly logFile: WriteStream;

  constructor(readonly options: ServiceProcessOptions) {
    mkdirSync(options.logDir, { recursive: true });
    this.logFile = createWriteStream(path.join(options.logDir, `${options.label}.log`));
    buildServices(options.repo); // milliseconds when nothing changed
    this.child = spawn(process.execPath, ["--enable-source-maps", serviceEntry(options.repo, options.service)], {
      cwd: options.repo,
      env: { ...options.env, SERVICE_INSTANCE: options.label },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) createInterface({ input: stream }).on("line", (line) => this.onLine(line));
    }
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))));
    void this.exited.then(() => this.logFile.end());
  }

  get label(): string {
    return this.options.label;
  }

  get logPath(): string {
    return path.join(this.options.logDir, `${this.options.label}.log`);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private onLine(line: string): void {
    this.logFile.write(`${line}\n`);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      parsed = { msg: line };
    }
    this.lines.push(parsed);
    if (this.lines.length > MAX_KEPT_LINES) this.lines.splice(0, this.lines.length - MAX_KEPT_LINES);
  }

  /** Resolves once a log line satisfies `match`; fails when the process exits first or the bound passes. */
  async waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.lines.some(match)) return;
      if (!this.running) throw new Error(`${this.label} exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}; see ${this.logPath}`);
      if (Date.now() > deadline) throw new Error(`${this.label}: no ${what} within ${timeoutMs} ms; see ${this.logPath}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs: number): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Crash: no drain, no commit, no leaving the group. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill("SIGKILL");
    await this.exited;
  }
}
