import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** The CPU fields of /proc/<pid>/stat, in clock ticks. */
export interface StatFields {
  ppid: number;
  utime: number;
  stime: number;
  /** CPU of children that exited and were reaped by this process (PostgreSQL's postmaster reaps its backends). */
  cutime: number;
  cstime: number;
}

/** Parses /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses: split after the last ")". */
export function parseStat(text: string): StatFields {
  const fields = text
    .slice(text.lastIndexOf(")") + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state) of proc(5): field N is at index N - 3.
  const at = (field: number) => Number(fields[field - 3]);
  return { ppid: at(4), utime: at(14), stime: at(15), cutime: at(16), cstime: at(17) };
}

/** A "Name:   1234 kB" line of /proc/<pid>/status or smaps_rollup, in kB; undefined when absent. */
export function parseKb(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
  return match ? Number(match[1]) : undefined;
}

let ticksPerSecond: number | undefined;

export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8", timeout: 2_000 }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // the Linux default on every architecture we run on
    }
  }
  return ticksPerSecond;
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined; // the process exited between listing and reading
  }
}

export function readStat(pid: number): StatFields | undefined {
  const text = readOrUndefined(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseStat(text);
}

/** Resident set size in kB (VmRSS). */
export function readRssKb(pid: number): number | undefined {
  const text = readOrUndefined(`/proc/${pid}/status`);
  return text === undefined ? undefined : parseKb(text, "VmRSS");
}

/** Proportional set size in kB: shared pages divided among the processes sharing them, so a sum over processes is real memory. */
export function readPssKb(pid: number): number | undefined {
  const text = readOrUndefined(`/proc/${pid}/smaps_rollup`);
  return text === undefined ? readRssKb(pid) : parseKb(text, "Pss");
}

/** Pids whose parent is `ppid` (one scan of /proc). */
export function childrenOf(ppid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.ppid === ppid) children.push(Number(entry));
  }
  return children;
}
