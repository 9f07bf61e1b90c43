// `npm test`: bring up the real stack (the same one `npm start` uses, with its own database and topic prefix so the
// two never share data), prepare the test database, then run every tier. Exits non-zero naming what failed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createStackContext } from "./stack/context.ts";
import { StackError } from "./stack/errors.ts";
import { ALL_COMPONENTS } from "./stack/components/all.ts";
import { stackUp } from "./stack/stack-manager.ts";
import { prepareEnvironment, testEnvironment } from "./run/prepare-environment.ts";

const TIERS = ["unit", "int", "e2e"] as const;

interface TierResult {
  tier: string;
  passed: number;
  failed: number;
  skipped: number;
  exitCode: number;
}

function runTier(repo: string, tier: string, env: NodeJS.ProcessEnv, extraArgs: string[]): TierResult {
  const reportDir = path.join(repo, "test-artifacts");
  mkdirSync(reportDir, { recursive: true });
  const report = path.join(reportDir, `vitest-${tier}.json`);
  console.log(`\n=== ${tier} tests ===`);
  const vitest = path.join(repo, "node_modules", ".bin", "vitest");
  const args = ["run", "--project", tier, "--passWithNoTests", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...extraArgs];
  const result = spawnSync(vitest, args, { cwd: repo, env, stdio: "inherit" });
  const counts = existsSync(report)
    ? (JSON.parse(readFileSync(report, "utf8")) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number })
    : { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 };
  return { tier, passed: counts.numPassedTests, failed: counts.numFailedTests, skipped: counts.numPendingTests + counts.numTodoTests, exitCode: result.status ?? 1 };
}

/** Type errors and lint findings fail `npm test` like a failing test: CI runs nothing weaker. */
function runStaticChecks(repo: string): TierResult {
  console.log("\n=== static checks (tsc, eslint) ===");
  const bin = (name: string) => path.join(repo, "node_modules", ".bin", name);
  const checks = [
    spawnSync(bin("tsc"), ["--noEmit", "-p", "tsconfig.json"], { cwd: repo, stdio: "inherit" }),
    spawnSync(bin("eslint"), ["."], { cwd: repo, stdio: "inherit" }),
  ];
  const failed = checks.filter((c) => c.status !== 0).length;
  return { tier: "static", passed: checks.length - failed, failed, skipped: 0, exitCode: failed > 0 ? 1 : 0 };
}

async function main(): Promise<number> {
  const startedAt = Date.now();
  const ctx = createStackContext();
  const env = testEnvironment(process.env);
  console.log("Bringing up the local stack (first run installs it into .stack/; later runs reuse it)");
  await stackUp(ctx, ALL_COMPONENTS);
  await prepareEnvironment(ctx, env, { resetDatabase: true, seedWhenEmpty: false });
  const only = process.argv.slice(2);
  const tiers = only.length > 0 ? TIERS.filter((t) => only.includes(t)) : [...TIERS];
  const results = [runStaticChecks(ctx.paths.repo), ...tiers.map((tier) => runTier(ctx.paths.repo, tier, env, []))];
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
