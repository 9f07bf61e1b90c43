import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/** The parts of a V8 .cpuprofile (as node --cpu-prof writes it) that self time needs. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

/** Where a script URL comes from: an npm package, Node itself, this project's folder, or V8's pseudo frames. */
export function packageOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node (internal)";
  // Unnamed WebAssembly modules: in these services that is Prisma's query compiler.
  if (url.startsWith("wasm://")) return "(wasm)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const parts = url.slice(modules + "node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const project = /\/(services|scripts|test)\/([^/]+)/.exec(url);
  return project ? `${project[1]}/${project[2]}` : url.replace(/^file:\/\//, "");
}

/** Self time per node id in ms: each sample's time delta is charged to the node it hit. */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const times = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0) {
    // timeDeltas[i] is the time before sample i; charging it to sample i's node is what DevTools does.
    samples.forEach((id, i) => times.set(id, (times.get(id) ?? 0) + (deltas[i] ?? 0) / 1000));
    return times;
  }
  const interval =
    (profile.endTime - profile.startTime) /
    1000 /
    Math.max(
      1,
      profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0),
    );
  for (const node of profile.nodes) times.set(node.id, (node.hitCount ?? 0) * interval);
  return times;
}

function top(totals: Map<string, number>, all: number, count: number): SelfTime[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), share: all > 0 ? Math.round((ms / all) * 1000) / 10 : 0 }));
}

export function summarizeProfile(profile: CpuProfile, count: number): { totalMs: number; busyMs: number; functions: SelfTime[]; packages: SelfTime[] } {
  const self = selfTimes(profile);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (ms === 0) continue;
    totalMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") idleMs += ms;
    const where = url === "" ? "" : ` ${url.replace(/^file:\/\//, "").replace(/^.*node_modules\//, "")}:${lineNumber + 1}`;
    const fn = `${functionName || "(anonymous)"}${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
  }
  const busyMs = totalMs - idleMs;
  byFunction.delete("(idle)");
  byPackage.delete("(idle)");
  return { totalMs: Math.round(totalMs), busyMs: Math.round(busyMs), functions: top(byFunction, busyMs, count), packages: top(byPackage, busyMs, count) };
}

function profileFiles(target: string): string[] {
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) return profileFiles(full);
    return entry.name.endsWith(".cpuprofile") ? [full] : [];
  });
}

/** `npm run bench -- profile-top <file|dir>... [--top N]`: self time by package and by function, busy time only (idle excluded). */
export function printProfileTop(targets: string[], count: number): void {
  const files = targets.flatMap(profileFiles);
  if (files.length === 0) throw new Error(`no .cpuprofile under ${targets.join(", ") || "(nothing given)"}; run npm run bench -- pipeline --profile first`);
  for (const file of files) {
    const summary = summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, count);
    process.stdout.write(
      `\n${file}: ${(summary.busyMs / 1000).toFixed(1)} s busy of ${(summary.totalMs / 1000).toFixed(1)} s sampled\n  by package (self time, share of busy):\n`,
    );
    for (const p of summary.packages) process.stdout.write(`    ${String(p.ms).padStart(8)} ms ${p.share.toFixed(1).padStart(5)} %  ${p.name}\n`);
    process.stdout.write("  by function:\n");
    for (const f of summary.functions) process.stdout.write(`    ${String(f.ms).padStart(8)} ms ${f.share.toFixed(1).padStart(5)} %  ${f.name}\n`);
  }
}
