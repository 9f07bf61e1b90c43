// When int files run side by side (TEST_INT_WORKERS > 1), each vitest worker works in a database of its own:
// a relay publishes every unpublished row of its database, and tests count rows, so two files must never share one.
import type { StackContext } from "../stack/context.ts";
import { withPgClient } from "../db/pg-migration-adapter.ts";
import { applyMigrations } from "../db/migrate.ts";
import { loadConfig } from "../../services/shared/config/load-config.ts";

/** How many int files run at once (TEST_INT_WORKERS; vitest.config.ts rejects a bad value, 1 here). */
export function intWorkerCount(env: NodeJS.ProcessEnv): number {
  const workers = Number(env.TEST_INT_WORKERS ?? "1");
  return Number.isInteger(workers) && workers > 1 ? workers : 1;
}

/** The database of vitest worker `worker` (VITEST_POOL_ID, 1-based): the test database's name + `_w<worker>`. */
export function workerDatabaseUrl(baseUrl: string, worker: number): string {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname}_w${worker}`;
  return url.toString();
}

/**
 * Recreates each worker's database, empty and migrated, as the test database itself is before a run. A bad
 * TEST_INT_WORKERS is left to vitest.config.ts, which names it.
 */
export async function prepareWorkerDatabases(ctx: StackContext, env: NodeJS.ProcessEnv): Promise<void> {
  const workers = intWorkerCount(env);
  if (workers < 2) return;
  const baseUrl = loadConfig(env).DATABASE_URL;
  const urls = Array.from({ length: workers }, (_, index) => workerDatabaseUrl(baseUrl, index + 1));
  const names = urls.map((url) => new URL(url).pathname.slice(1));
  await ctx.step("postgres", `creating ${workers} worker databases for the int tier (${names.join(", ")})`, async () => {
    await withPgClient(baseUrl, async (client) => {
      for (const name of names) {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await client.query(`CREATE DATABASE "${name}"`);
      }
    });
    await Promise.all(urls.map((url) => applyMigrations(url, { log: () => undefined })));
  });
}
