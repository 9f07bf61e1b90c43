/**
 * `npm run db:migrate`: applies the pending migrations of prisma/migrations to DATABASE_URL and records them in
 * _prisma_migrations exactly as `prisma migrate deploy` would (through the WASM schema engine).
 */
import { describeDatabaseUrl } from "../../services/shared/db/database-errors.ts";
import { databaseUrlFromEnv, dbPaths, elapsedSince, isMainModule } from "./db-paths.ts";
import { withPgClient } from "./pg-migration-adapter.ts";
import { applyPendingMigrations } from "./schema-engine.ts";

export interface ApplyMigrationsOptions {
  migrationsDir?: string;
  /** Progress lines; stderr by default, so stdout stays clean for callers. */
  log?: (line: string) => void;
}

/** Applies pending migrations; returns the names applied now (empty when the database was up to date). */
export async function applyMigrations(databaseUrl: string, options: ApplyMigrationsOptions = {}): Promise<string[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`  db        ${line}\n`));
  const startedAt = Date.now();
  log(`migrating ${describeDatabaseUrl(databaseUrl)} ...`);
  const applied = await applyPendingMigrations(databaseUrl, options.migrationsDir ?? dbPaths.migrations);
  if (applied.length === 0) log(`migrations up to date (${elapsedSince(startedAt)})`);
  else log(`applied ${applied.length} migration(s) in ${elapsedSince(startedAt)}: ${applied.join(", ")}`);
  return applied;
}

/**
 * Drops everything in the public schema, _prisma_migrations included, so the next applyMigrations starts from
 * empty (the test database before a run). Never point it at data you want to keep.
 */
export async function resetDatabase(databaseUrl: string): Promise<void> {
  await withPgClient(databaseUrl, async (client) => {
    // Other sessions (a crashed test run's services) could hold locks and make DROP SCHEMA wait.
    await client.query("SET lock_timeout = '10s'");
    await client.query("DROP SCHEMA IF EXISTS public CASCADE");
    await client.query("CREATE SCHEMA public");
  });
}

if (isMainModule(import.meta.url)) {
  applyMigrations(databaseUrlFromEnv()).catch((error: unknown) => {
    process.stderr.write(`db:migrate failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
