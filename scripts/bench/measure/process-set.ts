import { childrenOf, clockTicksPerSecond, readPssKb, readRssKb, readStat } from "./proc-stats.ts";

/**
 * A process whose CPU and memory the benchmark reports. "single": one pid (a Node service, a JVM, Jaeger).
 * "tree": a parent and its children (PostgreSQL: the postmaster and every backend); its CPU counts the parent,
 * the live children and, through the parent's cutime/cstime, the children that exited meanwhile, so a backend
 * that closes during a step does not take its CPU with it.
 */
export interface WatchedProcess {
  name: string;
  kind: "single" | "tree";
  /** Resolved on every reading: a restarted service has a new pid. */
  pid: () => number | undefined;
  /** A measuring tool (load generator, the benchmark itself): reported, but not summed into the system's cost. */
  tool?: boolean;
}

function readCpuSeconds(process: WatchedProcess, pid: number): number | undefined {
  const stat = readStat(pid);
  if (!stat) return undefined;
  let ticks = stat.utime + stat.stime;
  if (process.kind === "tree") {
    ticks += stat.cutime + stat.cstime;
    for (const child of childrenOf(pid)) {
      const childStat = readStat(child);
      if (childStat) ticks += childStat.utime + childStat.stime;
    }
  }
  return ticks / clockTicksPerSecond();
}

function readMemoryMb(process: WatchedProcess, pid: number): number | undefined {
  if (process.kind === "single") {
    const kb = readRssKb(pid);
    return kb === undefined ? undefined : kb / 1024;
  }
  let kb = readPssKb(pid) ?? 0;
  for (const child of childrenOf(pid)) kb += readPssKb(child) ?? 0;
  return kb / 1024;
}

export type CpuSnapshot = Map<string, number | undefined>;

export function cpuSnapshot(processes: readonly WatchedProcess[]): CpuSnapshot {
  return new Map(
    processes.map((p) => {
      const pid = p.pid();
      return [p.name, pid === undefined ? undefined : readCpuSeconds(p, pid)];
    }),
  );
}

/** CPU seconds each process used between two snapshots (null when it was not running at one of them). */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [name, end] of after) {
    const start = before.get(name);
    out[name] = start === undefined || end === undefined ? null : Math.max(0, Math.round((end - start) * 1000) / 1000);
  }
  return out;
}

/** Peak memory of each process over a series of readings taken by a sampler. */
export class PeakMemory {
  private readonly peaks = new Map<string, number>();

  record(processes: readonly WatchedProcess[]): void {
    for (const p of processes) {
      const pid = p.pid();
      if (pid === undefined) continue;
      const mb = readMemoryMb(p, pid);
      if (mb !== undefined && mb > (this.peaks.get(p.name) ?? 0)) this.peaks.set(p.name, mb);
    }
  }

  /** Peaks so far, then starts over (one series per step). */
  take(): Record<string, number> {
    const out = Object.fromEntries([...this.peaks].map(([name, mb]) => [name, Math.round(mb)]));
    this.peaks.clear();
    return out;
  }
}
