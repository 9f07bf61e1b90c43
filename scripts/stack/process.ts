import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { StackContext } from "./context.ts";
import { StackError } from "./errors.ts";
import { CommandError, runLogged } from "./artefact-cache.mjs";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Appends stdout and stderr here; on failure the error names this file. */
  logFile: string;
  timeoutMs: number;
  /** Runs the command as this (unprivileged) user via runuser; only when we are root. */
  asUser?: string;
  /** Kills the command when aborted (another step of `stack up` failed). */
  signal?: AbortSignal;
}

/** Runs a command to completion. Output goes to the log file; a non-zero exit or a timeout throws a StackError. */
export async function runCommand(component: string, command: string, args: string[], options: RunOptions): Promise<void> {
  const [cmd, argv] = withUser(command, args, options.asUser);
  const label = `${path.basename(command)} ${args.slice(0, 3).join(" ")}`;
  try {
    await runLogged(cmd, argv, { ...options, label });
  } catch (error) {
    throw asStepError(component, error);
  }
}

/** A CommandError of the plain-JavaScript installers, as the StackError the stack reports. */
export function asStepError(component: string, error: unknown): StackError | unknown {
  if (!(error instanceof CommandError)) return error;
  return new StackError(component, error.message, { logFile: error.logFile, hint: error.hint, cause: error });
}

function withUser(command: string, args: string[], user: string | undefined): [string, string[]] {
  if (!user || process.getuid?.() !== 0) return [command, args];
  return ["runuser", ["-u", user, "--", command, ...args]];
}

export interface DaemonOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  asUser?: string;
}

/** Starts a long-running process detached from us (it outlives `stack up`), recording its pid under .stack/run. */
export function startDaemon(ctx: StackContext, name: string, command: string, args: string[], options: DaemonOptions): number {
  const [cmd, argv] = withUser(command, args, options.asUser);
  const fd = openSync(options.logFile, "a");
  writeFileSync(fd, `\n--- ${new Date().toISOString()} starting: ${[cmd, ...argv].join(" ")}\n`);
  const child = spawn(cmd, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", fd, fd], detached: true });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new StackError(name, `could not start ${command}`, { logFile: options.logFile });
  writeFileSync(pidFile(ctx, name), String(child.pid));
  return child.pid;
}

export function pidFile(ctx: StackContext, name: string): string {
  return path.join(ctx.paths.run, `${name}.pid`);
}

export function readPid(ctx: StackContext, name: string): number | undefined {
  const file = pidFile(ctx, name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/**
 * True while the process runs. A process that exited but was not yet reaped by its parent (a zombie) counts as
 * gone: `npm test` starts the stack and then blocks in spawnSync(vitest), so the daemons it started cannot be
 * reaped until it returns, and kill(pid, 0) alone would report them alive forever.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false; // no /proc (not Linux): kill(pid, 0) is all we have
  }
}

/** A signal (SIGTERM by default) to the process group, a bounded wait, then SIGKILL. Returns when the process is gone. */
export async function stopDaemon(ctx: StackContext, name: string, graceMs = 20_000, stopSignal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  const pid = readPid(ctx, name);
  if (pid !== undefined) {
    signal(pid, stopSignal);
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(200);
    if (isAlive(pid)) {
      ctx.info(name, `did not stop within ${graceMs / 1000}s, sending SIGKILL`);
      signal(pid, "SIGKILL");
      while (isAlive(pid)) await sleep(100);
    }
  }
  rmSync(pidFile(ctx, name), { force: true });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig); // the whole group: wrappers such as runuser pass it on, children go too
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

let ephemeralLowCached: number | undefined;

/** The OS's range for port-0 binds (Linux: ip_local_port_range; 32768 up elsewhere too), read once. */
function ephemeralLow(): number {
  if (ephemeralLowCached !== undefined) return ephemeralLowCached;
  let low = 32_768;
  try {
    const read = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(read) && read > 11_024) low = read;
  } catch {
    // no /proc: the common default
  }
  ephemeralLowCached = low;
  return low;
}

function listensOn(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now, for test and benchmark servers. Chosen below the OS's
 * ephemeral range: a port from that range (what port 0 gives) is free once we let go of it, and a service binding
 * port 0 meanwhile (every consumer's metrics server) could be handed the same one. That happened: the relay's
 * metrics server answered on the API port a test had picked, /livez and all.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = high - 10_000;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await listensOn(port)) return port;
  }
  throw new Error(`no free TCP port on 127.0.0.1 between ${low} and ${high} after 50 tries`);
}

/** Fails with a clear message when a port we are about to bind is taken by something that is not ours. */
export async function assertPortFree(component: string, host: string, port: number, variable: string): Promise<void> {
  if (await isPortOpen(host, port)) {
    throw new StackError(component, `port ${host}:${port} is already in use by another process`, {
      hint: `stop that process (ss -ltnp 'sport = :${port}') or choose another port with ${variable}=...`,
    });
  }
}

/** Polls check() until it returns true, the deadline passes (StackError), or the process died (StackError). */
export async function waitUntil(
  component: string,
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; logFile?: string; pid?: number; hint?: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (options.pid !== undefined && !isAlive(options.pid)) {
      throw new StackError(component, `exited before it was ${what}`, { logFile: options.logFile, hint: options.hint });
    }
    if (Date.now() > deadline) {
      throw new StackError(component, `not ${what} after ${options.timeoutMs / 1000}s`, { logFile: options.logFile, hint: options.hint });
    }
    await sleep(options.intervalMs ?? 500);
  }
}

/** fetch with a timeout; resolves to the Response or throws. */
export async function fetchWithTimeout(url: string, timeoutMs = 2000, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}
