/**
 * The pg side of the WASM schema engine: connection settings, a plain-connection helper with a clear error, and
 * the driver adapter factory the engine gets, with workarounds for two @prisma/adapter-pg 7.10 bugs.
 */
import { randomUUID } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import { ColumnTypeEnum } from "@prisma/driver-adapter-utils";
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, SqlQueryable, SqlResultSet } from "@prisma/driver-adapter-utils";
import pg from "pg";
import { describeDatabaseUrl, toDatabaseError } from "../../services/shared/db/database-errors.ts";
import { MigrationError } from "./migration-error.ts";

const CONNECT_TIMEOUT_MS = 5_000;
/** Longest single statement of a migration run. */
const STATEMENT_TIMEOUT_MS = 120_000;

/**
 * Explicit connection fields instead of a connection string: the adapter creates its shadow database by
 * spreading its config with another `database`, and pg lets a connectionString override that field, which
 * would point the "shadow" at the real database.
 */
export function poolConfigFromUrl(databaseUrl: string): pg.PoolConfig {
  const url = new URL(databaseUrl);
  if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") {
    throw new MigrationError(`DATABASE_URL must be a postgresql:// URL, got ${url.protocol}//...`);
  }
  return {
    host: url.hostname || "127.0.0.1",
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, "")) || "postgres",
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    max: 2,
    Client: CatalogFriendlyClient,
  };
}

// PostgreSQL's one-byte internal "char" type (OID 18) appears all over pg_catalog (relkind, contype, ...), which
// the schema engine reads to describe a database. @prisma/adapter-pg 7.10 has no column type for it and fails
// with "Column type 'char' could not be deserialized", so every diff against a real database (the shadow one
// included) fails. Two small patches: our pg.Client relabels those columns as text (pg returns their values as
// strings anyway) and remembers their positions per result; our adapter wrapper then reports them to the
// engine as Character columns, which is what its describer expects.
const PG_INTERNAL_CHAR_OID = 18;
const PG_TEXT_OID = 25;
/** Result rows array -> indexes of its "char" columns (the adapter passes pg's rows array through as is). */
const internalCharColumns = new WeakMap<object, number[]>();

interface PgResultLike {
  fields?: { dataTypeID: number }[];
  rows?: unknown[];
}

export function relabelInternalCharColumns<T>(result: T): T {
  for (const part of Array.isArray(result) ? result : [result]) {
    const { fields, rows } = (part ?? {}) as PgResultLike;
    const indexes: number[] = [];
    fields?.forEach((field, index) => {
      if (field.dataTypeID !== PG_INTERNAL_CHAR_OID) return;
      field.dataTypeID = PG_TEXT_OID;
      indexes.push(index);
    });
    if (indexes.length > 0 && rows) internalCharColumns.set(rows, indexes);
  }
  return result;
}

export function markInternalCharColumns(result: SqlResultSet): SqlResultSet {
  for (const index of internalCharColumns.get(result.rows) ?? []) result.columnTypes[index] = ColumnTypeEnum.Character;
  return result;
}

type QueryFn = (...args: unknown[]) => unknown;

/** A pg.Client whose results never carry the internal "char" type (callback and promise forms alike). */
class CatalogFriendlyClient extends pg.Client {}
const baseQuery = pg.Client.prototype.query as unknown as QueryFn;
(CatalogFriendlyClient.prototype as unknown as { query: QueryFn }).query = function (this: pg.Client, ...args: unknown[]) {
  const last = args.length - 1;
  const callback = args[last];
  if (typeof callback === "function") {
    args[last] = (error: unknown, result: unknown) => (callback as QueryFn)(error, error ? result : relabelInternalCharColumns(result));
    return baseQuery.apply(this, args);
  }
  const returned = baseQuery.apply(this, args);
  return returned instanceof Promise ? returned.then(relabelInternalCharColumns) : returned;
};

/** Makes `queryable` (an adapter or one of its transactions) report "char" columns as Character. */
function reportInternalCharColumns<Q extends SqlQueryable>(queryable: Q): Q {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => markInternalCharColumns(await queryRaw(query));
  return queryable;
}

/**
 * @prisma/adapter-pg 7.10 runs a migration script by splitting it at every ";", which breaks function bodies
 * ($$ ... ; ... $$), string literals and comments. PostgreSQL takes the whole script as one simple query, which
 * also makes it atomic: a failing migration leaves nothing half-applied.
 */
function wholeScriptExecution(adapter: SqlDriverAdapter): void {
  const internals = adapter as unknown as { client: { query(sql: string): Promise<unknown> }; onError(error: unknown): never };
  adapter.executeScript = async (script: string) => {
    try {
      await internals.client.query(script);
    } catch (error) {
      internals.onError(error);
    }
  };
}

function catalogFriendlyAdapter(adapter: SqlDriverAdapter): SqlDriverAdapter {
  wholeScriptExecution(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => reportInternalCharColumns(await startTransaction(isolationLevel));
  return reportInternalCharColumns(adapter);
}

/** Runs `work` on one plain connection; a connection failure names PostgreSQL, the address and the likely fix. */
export async function withPgClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...poolConfigFromUrl(databaseUrl), statement_timeout: STATEMENT_TIMEOUT_MS });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(
      `cannot connect to PostgreSQL at ${describeDatabaseUrl(databaseUrl)}: ${reason}. ` + "Is the stack up (npm run stack -- up) and DATABASE_URL right?",
      { cause: toDatabaseError(error, databaseUrl) },
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Fails fast, naming PostgreSQL and the address, when the database cannot be reached at all. */
export async function assertReachable(databaseUrl: string): Promise<void> {
  await withPgClient(databaseUrl, (client) => client.query("SELECT 1"));
}

/**
 * The pg adapter factory the engine gets, with our own shadow-database handling: @prisma/adapter-pg 7.10
 * drops its shadow database while its own pool still holds an idle connection to it ("is being accessed by
 * other users"), and leaves it behind. Here shadow pools are ended first and the databases dropped WITH
 * (FORCE) in close(), whatever the engine did.
 */
export class MigrationAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = "postgres";
  readonly adapterName: string;
  private readonly main: PrismaPg;
  private readonly shadows: { database: string; pool: pg.Pool }[] = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly config: pg.PoolConfig,
  ) {
    this.main = new PrismaPg(pool);
    this.adapterName = this.main.adapterName;
  }

  async connect(): Promise<SqlDriverAdapter> {
    return catalogFriendlyAdapter(await this.main.connect());
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const database = `prisma_migrate_shadow_db_${randomUUID()}`;
    await this.pool.query(`CREATE DATABASE "${database}"`);
    const pool = new pg.Pool({ ...this.config, database });
    // pool.end() does not wait for the sockets to close, so DROP ... WITH (FORCE) may still terminate one of
    // them: expected for a throwaway database, and without a listener it would crash the process.
    pool.on("error", () => undefined);
    this.shadows.push({ database, pool });
    return catalogFriendlyAdapter(await new PrismaPg(pool).connect());
  }

  async close(): Promise<void> {
    for (const { database, pool } of this.shadows.splice(0)) {
      await pool.end();
      await this.pool.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    }
    await this.pool.end();
  }
}
