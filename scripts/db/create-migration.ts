/**
 * `npm run db:migration:create -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL
 * that takes the database from the existing migrations to prisma/schema.prisma (what `prisma migrate dev
 * --create-only` does). Replaying the existing migrations uses a throwaway shadow database on DATABASE_URL's
 * server. Prints "no changes" when the schema and the migrations agree.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { databaseUrlFromEnv, dbPaths, elapsedSince, isMainModule } from "./db-paths.ts";
import { diffMigrationsToSchema, LOCKFILE_CONTENT, LOCKFILE_NAME, MigrationError } from "./schema-engine.ts";

/** Prisma's rules: lower case, anything but [a-z0-9_] becomes "_", at most 200 characters. */
export function migrationSlug(name: string): string {
  const slug = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 200);
  if (!slug) throw new MigrationError(`"${name}" is not a usable migration name: use letters, digits and _`);
  return slug;
}

/** UTC YYYYMMDDHHMMSS, the prefix Prisma gives migration directories (their sort order is apply order). */
export function migrationTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

export interface CreateMigrationOptions {
  name: string;
  databaseUrl: string;
  migrationsDir?: string;
  schemaPath?: string;
  now?: Date;
}

/** Returns the new migration's directory, or undefined when there is nothing to migrate. */
export async function createMigration(options: CreateMigrationOptions): Promise<string | undefined> {
  const migrationsDir = options.migrationsDir ?? dbPaths.migrations;
  const slug = migrationSlug(options.name);
  const sql = await diffMigrationsToSchema(options.databaseUrl, migrationsDir, options.schemaPath ?? dbPaths.schema);
  if (!sql) return undefined;
  const dir = path.join(migrationsDir, `${migrationTimestamp(options.now ?? new Date())}_${slug}`);
  if (existsSync(dir)) throw new MigrationError(`${dir} already exists; wait a second or pick another name`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "migration.sql"), sql);
  const lockfile = path.join(migrationsDir, LOCKFILE_NAME);
  if (!existsSync(lockfile)) await writeFile(lockfile, LOCKFILE_CONTENT);
  return dir;
}

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name) {
    process.stderr.write("usage: npm run db:migration:create -- <name>   (e.g. add_payment_captures)\n");
    process.exitCode = 2;
    return;
  }
  const startedAt = Date.now();
  const dir = await createMigration({ name, databaseUrl: databaseUrlFromEnv() });
  if (dir) {
    process.stdout.write(`created ${path.relative(dbPaths.repo, dir)}/migration.sql (${elapsedSince(startedAt)})\n`);
    process.stdout.write("review it, add what Prisma cannot express (CHECK constraints, ...), then npm run db:migrate\n");
  } else {
    process.stdout.write(`no changes: prisma/schema.prisma matches the migrations (${elapsedSince(startedAt)})\n`);
  }
}

if (isMainModule(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`db:migration:create failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
