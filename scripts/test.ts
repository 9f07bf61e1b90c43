// `npm test`: bring up the real stack (the same one `npm start` uses, with its own database and topic prefix so the
// two never share data), prepare the test database, then run every tier. Exits non-zero naming what failed.
// The static checks and the unit tier need no stack: they run while it comes up, their output held back and
// printed in order once it is up, so a first run does not wait for Kafka and the registry to start before type-checking.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createStackContext } from "./stack/context.ts";
import { StackError } from "./stack/errors.ts";
import { ALL_COMPONENTS } from "./stack/components/all.ts";
import { stackUp } from "./stack/stack-manager.ts";
import { generateClient, prepareDatabase, testEnvironment } from "./run/prepare-environment.ts";
import { prepareWorkerDatabases } from "./run/worker-databases.ts";

const TIERS = ["unit", "int", "e2e", "chaos"] as const;
/** What `npm test` runs when no tier is named: every tier, chaos in its short profile (docs/chaos.md). */
const DEFAULT_TIERS: readonly string[] = ["unit", "int", "e2e", "chaos"];
/** Tiers that need no stack, run beside its start. */
const STACKLESS_TIERS: readonly string[] = ["unit"];

interface TierResult {
  tier: string;
  passed: number;
  failed: number;
  skipped: number;
  exitCode: number;
}

/** Where a step's output goes: straight to the terminal, or into a buffer printed later. */
type Output = "inherit" | string[];

function run(repo: string, command: string, args: string[], env: NodeJS.ProcessEnv, output: Output): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repo, env, stdio: output === "inherit" ? "inherit" : ["ignore", "pipe", "pipe"] });
    if (output !== "inherit") {
      child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
      child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    }
    child.on("error", (error) => {
      if (output !== "inherit") output.push(`cannot run ${command}: ${error.message}\n`);
      resolve(1);
    });
    child.on("close", (code) => resolve(code ?? 1));
  });
}

async function runTier(repo: string, tier: string, env: NodeJS.ProcessEnv, output: Output): Promise<TierResult> {
  const reportDir = path.join(repo, "test-artifacts");
  mkdirSync(reportDir, { recursive: true });
  const report = path.join(reportDir, `vitest-${tier}.json`);
  const vitest = path.join(repo, "node_modules", ".bin", "vitest");
  const args = ["run", "--project", tier, "--passWithNoTests", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`];
  const exitCode = await run(repo, vitest, args, env, output);
  const counts = existsSync(report)
    ? (JSON.parse(readFileSync(report, "utf8")) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number })
    : { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 };
  // A tier that failed without a failed test (a failing beforeAll skips its tests; a crash writes no report) still
  // counts as a failure in the closing "N passed, N failed" line.
  const failed = exitCode !== 0 && counts.numFailedTests === 0 ? 1 : counts.numFailedTests;
  return { tier, passed: counts.numPassedTests, failed, skipped: counts.numPendingTests + counts.numTodoTests, exitCode };
}

/** What the formatter owns (.prettierignore leaves out generated and vendored files). */
const FORMATTED_FILES = "**/*.{ts,mjs,js}";

/** Type errors, lint findings, formatting and dead code (knip: unused files and exports) fail `npm test` like a failing test: CI runs nothing weaker. */
async function runStaticChecks(repo: string, output: Output): Promise<TierResult> {
  const bin = (name: string) => path.join(repo, "node_modules", ".bin", name);
  const codes = [
    await run(repo, bin("tsc"), ["--noEmit", "-p", "tsconfig.json"], process.env, output),
    await run(repo, bin("eslint"), ["."], process.env, output),
    await run(repo, bin("knip"), ["--no-progress"], process.env, output),
    // Formatting is checked, not fixed: `npm run format` rewrites; a test run never changes the tree.
    await run(repo, bin("prettier"), ["--check", "--log-level", "warn", FORMATTED_FILES], process.env, output),
  ];
  const failed = codes.filter((code) => code !== 0).length;
  return { tier: "static", passed: codes.length - failed, failed, skipped: 0, exitCode: failed > 0 ? 1 : 0 };
}

interface Section {
  title: string;
  output: string[];
  result: Promise<TierResult>;
}

/** Starts the static checks and the stackless tiers now, each into its own buffer. */
function startStackless(repo: string, tiers: readonly string[], env: NodeJS.ProcessEnv, clientReady: Promise<unknown>): Section[] {
  const staticOutput: string[] = [];
  // One after the other, not all at once: on two cores tsc, eslint and vitest side by side finish no sooner.
  const staticResult = clientReady.then(() => runStaticChecks(repo, staticOutput));
  const sections: Section[] = [{ title: "static checks (tsc, eslint, knip, prettier)", output: staticOutput, result: staticResult }];
  let previous: Promise<unknown> = staticResult;
  for (const tier of tiers.filter((t) => STACKLESS_TIERS.includes(t))) {
    const output: string[] = [];
    const result = previous.then(() => runTier(repo, tier, env, output));
    sections.push({ title: `${tier} tests`, output, result });
    previous = result;
  }
  // Awaited only once the stack is up; until then a failure (say, client generation) must not count as unhandled.
  for (const section of sections) section.result.catch(() => undefined);
  return sections;
}

/**
 * Arguments: tier names pick tiers (DEFAULT_TIERS when none is named). `npm run chaos -- <scenario...|all> [--long]` is `npm test --
 * chaos ...`: any other word names a chaos scenario (CHAOS_SCENARIOS) and --long selects the long profile
 * (CHAOS_PROFILE=long; docs/chaos.md).
 */
function chaosChoices(args: readonly string[], env: NodeJS.ProcessEnv): { tiers: string[]; env: NodeJS.ProcessEnv } {
  const named = TIERS.filter((t) => args.includes(t));
  const scenarios = args.filter((a) => !(TIERS as readonly string[]).includes(a) && !a.startsWith("--"));
  const runEnv: NodeJS.ProcessEnv = { ...env };
  if (scenarios.length > 0) runEnv.CHAOS_SCENARIOS = scenarios.join(",");
  if (args.includes("--long")) runEnv.CHAOS_PROFILE = "long";
  return { tiers: named.length > 0 ? [...named] : [...DEFAULT_TIERS], env: runEnv };
}

async function main(): Promise<number> {
  const startedAt = Date.now();
  const ctx = createStackContext();
  const env = testEnvironment(process.env);
  const repo = ctx.paths.repo;
  const { tiers, env: runEnv } = chaosChoices(process.argv.slice(2), env);
  console.log("Bringing up the local stack (first run installs it; later runs reuse it); static checks and unit tests run meanwhile");
  const clientReady = generateClient(ctx);
  const early = startStackless(repo, tiers, runEnv, clientReady);
  await stackUp(ctx, ALL_COMPONENTS);
  await clientReady;
  await prepareDatabase(ctx, env, { resetDatabase: true, seedWhenEmpty: false });
  if (tiers.includes("int")) await prepareWorkerDatabases(ctx, env);
  const results: TierResult[] = [];
  for (const section of early) {
    const result = await section.result;
    console.log(`\n=== ${section.title} ===`);
    process.stdout.write(section.output.join(""));
    results.push(result);
  }
  for (const tier of tiers.filter((t) => !STACKLESS_TIERS.includes(t))) {
    console.log(`\n=== ${tier} tests ===`);
    results.push(await runTier(repo, tier, runEnv, "inherit"));
  }
  console.log("\n=== summary ===");
  for (const r of results) console.log(`${r.tier.padEnd(6)} ${r.passed} passed, ${r.failed} failed${r.exitCode !== 0 ? ` (vitest exit ${r.exitCode})` : ""}`);
  const total = results.reduce((acc, r) => ({ passed: acc.passed + r.passed, failed: acc.failed + r.failed }), { passed: 0, failed: 0 });
  console.log(`(${((Date.now() - startedAt) / 1000).toFixed(0)}s)`);
  console.log(`${total.passed} passed, ${total.failed} failed`);
  return results.every((r) => r.exitCode === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof StackError ? `\nnpm test: the stack would not start\n${error.explain()}` : error);
    process.exit(1);
  },
);
