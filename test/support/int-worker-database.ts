// The int tier's first setup file (vitest.config.ts). When int files run side by side (TEST_INT_WORKERS > 1), each
// vitest worker works in a database of its own, the test database's name + `_w<worker>`, which `npm test` creates
// and migrates before the tier (scripts/run/worker-databases.ts). Set here, before the test file is imported, so
// every kit, and every process a test spawns, reads that database.
import { intWorkerCount, workerDatabaseUrl } from "../../scripts/run/worker-databases.ts";

const worker = process.env.VITEST_POOL_ID;
if (intWorkerCount(process.env) > 1 && worker) {
  // The base is kept aside: a worker may run several files, and each must derive from it, not from the last one.
  const base = process.env.TEST_BASE_DATABASE_URL || process.env.DATABASE_URL || "postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow_test";
  process.env.TEST_BASE_DATABASE_URL = base;
  process.env.DATABASE_URL = workerDatabaseUrl(base, Number(worker));
}
