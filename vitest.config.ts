import { defineConfig } from "vitest/config";

/**
 * Int files run side by side when TEST_INT_WORKERS > 1 (`npm test` sets 2): each worker gets a database of its own
 * (test/support/int-worker-database.ts), which `npm test` creates; topics and groups are already unique per file. A
 * plain `npx vitest run --project int` runs them one at a time on DATABASE_URL.
 */
function intWorkers(): number {
  const raw = process.env.TEST_INT_WORKERS ?? "1";
  const workers = Number(raw);
  if (!Number.isInteger(workers) || workers < 1 || workers > 8) throw new Error(`TEST_INT_WORKERS must be an integer from 1 to 8, got "${raw}"`);
  return workers;
}
const INT_WORKERS = intWorkers();

// Tiers by file suffix: unit (pure logic, fakes allowed), int (real stack), e2e (whole pipeline through HTTP),
// chaos (test/chaos: faults under load, each scenario ending in the audit).
// int and e2e expect the stack that scripts/test.ts brings up; they never skip themselves when it is missing.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["services/**/*.unit.test.ts", "scripts/**/*.unit.test.ts", "test/**/*.unit.test.ts"] } },
      {
        test: {
          name: "int",
          setupFiles: ["test/support/int-worker-database.ts", "test/support/isolate-test-file.ts"],
          include: ["services/**/*.int.test.ts", "scripts/**/*.int.test.ts", "test/**/*.int.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: INT_WORKERS > 1,
          maxWorkers: INT_WORKERS,
        },
      },
      {
        test: {
          name: "e2e",
          setupFiles: ["test/support/isolate-test-file.ts"],
          include: ["services/**/*.e2e.test.ts", "test/**/*.e2e.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "chaos",
          setupFiles: ["test/support/isolate-test-file.ts"],
          include: ["test/chaos/**/*.chaos.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
