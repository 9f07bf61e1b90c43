import { setTimeout as sleep } from "node:timers/promises";
import { cpuBetween, cpuSnapshot, type WatchedProcess } from "./process-set.ts";

/** What every process burns with the services running and nothing to do: the cost a step pays before its first order. */
export interface IdleCost {
  seconds: number;
  /** CPU seconds per wall second (1 = one core busy), per process; null when it was not running throughout. */
  coresByProcess: Record<string, number | null>;
  /** Summed over the system under test (measuring tools left out). */
  systemCores: number;
}

export function idleCostFrom(processes: readonly WatchedProcess[], cpu: Record<string, number | null>, seconds: number): IdleCost {
  const coresByProcess: Record<string, number | null> = {};
  let systemCores = 0;
  for (const p of processes) {
    const used = cpu[p.name];
    const cores = used === null || used === undefined ? null : Math.round((used / seconds) * 1000) / 1000;
    coresByProcess[p.name] = cores;
    if (!p.tool && cores !== null) systemCores += cores;
  }
  return { seconds, coresByProcess, systemCores: Math.round(systemCores * 1000) / 1000 };
}

/** Reads every process' CPU, waits `seconds` with no load offered, and reads again. */
export async function measureIdleCost(processes: () => readonly WatchedProcess[], seconds: number): Promise<IdleCost> {
  const before = cpuSnapshot(processes());
  await sleep(seconds * 1000);
  return idleCostFrom(processes(), cpuBetween(before, cpuSnapshot(processes())), seconds);
}
