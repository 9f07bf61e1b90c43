/**
 * Prisma's schema engine compiled to WebAssembly (@prisma/schema-engine-wasm), driven through the pg driver
 * adapter. It replaces `prisma migrate diff|deploy`, whose native engine binary is downloaded from a host that
 * is unreachable here. Migrations stay in Prisma's layout and are recorded in _prisma_migrations exactly as
 * `prisma migrate deploy` records them, so the normal CLI can take over wherever it works.
 */
import { withTimeout } from "../../services/shared/resilience/with-timeout.ts";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import * as engineBindings from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { SchemaEngine, SchemaFilter } from "@prisma/schema-engine-wasm/schema_engine_bg";
import pg from "pg";
import { toDatabaseError } from "../../services/shared/db/database-errors.ts";
import { MigrationError } from "./migration-error.ts";
import { readMigrations } from "./migrations-dir.ts";
import { assertReachable, MigrationAdapterFactory, poolConfigFromUrl } from "./pg-migration-adapter.ts";

export { MigrationError } from "./migration-error.ts";
export { LOCKFILE_CONTENT, LOCKFILE_NAME, readMigrations } from "./migrations-dir.ts";

const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };
/** One engine call (a whole migration run included) may take this long before we give up on it. */
const ENGINE_CALL_TIMEOUT_MS = 120_000;

/** Node's WebAssembly global; this project's lib/types settings do not declare it as a value. */
interface WasmRuntime {
  instantiate(bytes: Uint8Array, imports: Record<string, Record<string, unknown>>): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
function wasmRuntime(): WasmRuntime {
  return (globalThis as unknown as { WebAssembly: WasmRuntime }).WebAssembly;
}

let bindingsReady: Promise<void> | undefined;
/** The message of the engine's last Rust panic; the glue reports it through this global registry. */
let lastPanic: string | undefined;

/**
 * The package's main entry imports the .wasm file as an ES module, which Node 20 refuses; so we instantiate
 * the .wasm ourselves and hand its exports to the JS glue. Module-level state in the glue: do it once.
 */
function loadBindings(): Promise<void> {
  bindingsReady ??= (async () => {
    // Without this registry a panic inside the engine crashes the process instead of rejecting the call.
    Object.assign(globalThis, { PRISMA_WASM_PANIC_REGISTRY: { set_message: (message: string) => (lastPanic = message) } });
    const gluePath = createRequire(import.meta.url).resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const bytes = await readFile(path.join(path.dirname(gluePath), "schema_engine_bg.wasm"));
    const { instance } = await wasmRuntime().instantiate(bytes, { "./schema_engine_bg.js": withUnrefTimers(engineBindings) });
    engineBindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return bindingsReady;
}

/**
 * The engine arms 10-second timers it never clears (a timeout race around each call); left as they are, they
 * keep a finished script (or a test run's global setup) alive for those 10 s. Unref'd timers still fire while
 * anything else keeps the process running.
 */
function withUnrefTimers(bindings: typeof engineBindings): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...bindings };
  for (const [name, fn] of Object.entries(bindings)) {
    if (!name.startsWith("__wbg_setTimeout_") || typeof fn !== "function") continue;
    imports[name] = (...args: unknown[]) => {
      const timer = (fn as (...a: unknown[]) => unknown)(...args);
      (timer as { unref?: () => void } | undefined)?.unref?.();
      return timer;
    };
  }
  return imports;
}

export interface EngineLog {
  level?: string;
  message?: string;
}

export interface EngineSession {
  engine: SchemaEngine;
  /** Log lines the engine emitted so far (its errors are often only here). */
  logs: EngineLog[];
}

function parseLog(line: string): EngineLog {
  try {
    const parsed = JSON.parse(line) as { level?: string; fields?: { message?: string } };
    return { level: parsed.level, message: parsed.fields?.message ?? line };
  } catch {
    return { message: line };
  }
}

/** Starts an engine bound to `databaseUrl` (connections are opened lazily), runs `work`, frees it. */
export async function withSchemaEngine<T>(
  databaseUrl: string,
  schema: { path: string; content: string } | undefined,
  work: (session: EngineSession) => Promise<T>,
): Promise<T> {
  await loadBindings();
  const logs: EngineLog[] = [];
  const config = poolConfigFromUrl(databaseUrl);
  // Our own pool, ended in close(): the engine does not dispose what it opens, and idle pool clients would
  // keep the process alive for the pool's idle timeout.
  const pool = new pg.Pool(config);
  pool.on("error", (error) => logs.push({ level: "WARN", message: `idle connection error: ${error.message}` }));
  const factory = new MigrationAdapterFactory(pool, config);
  try {
    const adapter = bindMigrationAwareSqlAdapterFactory(factory);
    const datamodels: [string, string][] | undefined = schema ? [[schema.path, schema.content]] : undefined;
    const engine = await engineBindings.SchemaEngine.new({ datamodels }, (line: string) => logs.push(parseLog(line)), adapter);
    try {
      return await work({ engine, logs });
    } finally {
      engine.free();
    }
  } finally {
    await factory.close();
  }
}

/** Bounds an engine call: the WASM call cannot be cancelled, but the caller stops waiting. */
export function withEngineTimeout<T>(what: string, call: Promise<T>, timeoutMs = ENGINE_CALL_TIMEOUT_MS): Promise<T> {
  return withTimeout(call, timeoutMs, () => new MigrationError(`${what} did not finish within ${timeoutMs / 1000}s`));
}

function engineFailure(what: string, error: unknown, logs: EngineLog[]): MigrationError {
  const errors = logs.filter((l) => l.level === "ERROR" || l.level === "WARN").map((l) => l.message);
  let reason = error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error);
  if (lastPanic !== undefined) {
    reason = `${reason} (engine panic: ${lastPanic})`;
    lastPanic = undefined;
  }
  return new MigrationError([`${what} failed: ${reason}`, ...errors].join("\n  "), { cause: error });
}

/**
 * The SQL that takes a database from the state the migrations produce to the schema's state; "" when in sync.
 * Replaying existing migrations needs a throwaway shadow database, which the adapter creates (and drops) on
 * the server of `databaseUrl`; with no migrations yet, no database is needed at all.
 */
export async function diffMigrationsToSchema(databaseUrl: string, migrationsDir: string, schemaPath: string): Promise<string> {
  const schema = { path: schemaPath, content: await readFile(schemaPath, "utf8") };
  const migrations = await readMigrations(migrationsDir);
  const hasMigrations = migrations.migrationDirectories.length > 0;
  if (hasMigrations) await assertReachable(databaseUrl);
  return withSchemaEngine(databaseUrl, schema, async ({ engine, logs }) => {
    try {
      const result = await withEngineTimeout(
        "schema diff",
        engine.diff({
          from: hasMigrations ? { tag: "migrations", ...migrations } : { tag: "empty" },
          to: { tag: "schemaDatamodel", files: [schema] },
          script: true,
          exitCode: null,
          filters: NO_FILTERS,
        }),
      );
      return isEmptyScript(result.stdout ?? "") ? "" : (result.stdout ?? "");
    } catch (error) {
      throw engineFailure("schema diff", error, logs);
    }
  });
}

/** The engine renders "no difference" as a comment-only script. */
export function isEmptyScript(sql: string): boolean {
  return sql
    .split("\n")
    .map((line) => line.trim())
    .every((line) => line === "" || line.startsWith("--"));
}

/** Applies the pending migrations of `migrationsDir`; returns the names applied now (empty when up to date). */
export async function applyPendingMigrations(databaseUrl: string, migrationsDir: string): Promise<string[]> {
  await assertReachable(databaseUrl);
  const migrations = await readMigrations(migrationsDir);
  const broken = migrations.migrationDirectories.find((d) => d.migrationFile.content.tag === "error");
  if (broken) throw new MigrationError(`migration ${broken.path} has no migration.sql`, { migration: broken.path });
  return withSchemaEngine(databaseUrl, undefined, async ({ engine, logs }) => {
    try {
      const result = await withEngineTimeout("applying migrations", engine.applyMigrations({ migrationsList: migrations, filters: NO_FILTERS }));
      return result.appliedMigrationNames;
    } catch (error) {
      throw engineFailure("applying migrations", toDatabaseError(error, databaseUrl), logs);
    }
  });
}
