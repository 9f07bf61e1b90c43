/**
 * The raw-SQL path for hot statements (consumer handlers, the accept write, the relay): node-postgres directly,
 * without Prisma's per-query cost. Prisma stays the schema, the migrations and the typed models wherever it does
 * not cost. One pg.Pool per process can serve both (PrismaPg accepts the same pool).
 *
 *   const rows = await db.rows<{ sku: string }>(sql`SELECT sku FROM stock WHERE sku = ANY(${skus}::text[])`);
 *   const changed = await db.execute(sql`UPDATE stock SET ... WHERE sku = ${sku}`);
 *
 * Values are always parameters ($1, $2, ...), never spliced into the text. Result types are node-postgres's:
 * int8 / count(*) and numeric arrive as strings, timestamptz as Date.
 */
import { createHash } from "node:crypto";
import pg from "pg";

/** A parameterised statement. `name` makes pg prepare it once per connection (set by sql`` from the text). */
export interface SqlQuery {
  readonly text: string;
  readonly values: readonly unknown[];
  readonly name?: string;
}

/** A fragment spliced into an sql`` template as text (a constant list, an identifier): never user input. */
export interface SqlFragment {
  readonly fragment: string;
}

export function raw(fragment: string): SqlFragment {
  return { fragment };
}

function isFragment(value: unknown): value is SqlFragment {
  return typeof value === "object" && value !== null && "fragment" in value && typeof (value as SqlFragment).fragment === "string";
}

const names = new Map<string, string>();

/** Statement name from its text: the same call site reuses the same prepared statement on each connection. */
function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `of_${createHash("sha1").update(text).digest("hex").slice(0, 16)}`;
    if (names.size < 10_000) names.set(text, name);
  }
  return name;
}

function isQuery(value: unknown): value is SqlQuery {
  return typeof value === "object" && value !== null && typeof (value as SqlQuery).text === "string" && Array.isArray((value as SqlQuery).values);
}

/**
 * A query built by sql`` spliced into another one (a data-modifying CTE made of two modules' statements): its $n
 * placeholders are renumbered after the outer ones. Safe because sql`` texts hold placeholders only as $n (values
 * are never spliced, and no statement here uses dollar quoting).
 */
function splice(query: SqlQuery, params: unknown[]): string {
  const offset = params.length;
  params.push(...query.values);
  return query.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
}

/** Tagged template: interpolations become $n parameters (SqlFragment values are spliced as text, SqlQuery values as statements). */
export function sql(strings: TemplateStringsArray, ...values: readonly unknown[]): SqlQuery {
  let text = strings[0] ?? "";
  const params: unknown[] = [];
  values.forEach((value, index) => {
    if (isFragment(value)) text += value.fragment;
    else if (isQuery(value)) text += splice(value, params);
    else {
      params.push(value);
      text += `$${params.length}`;
    }
    text += strings[index + 1] ?? "";
  });
  return { text, values: params, name: statementName(text) };
}

/** What a handler or repository gets: a connection or an open transaction. */
export interface SqlExecutor {
  rows<R extends object>(query: SqlQuery): Promise<R[]>;
  /** Rows changed (INSERT/UPDATE/DELETE), or returned for a SELECT. */
  execute(query: SqlQuery): Promise<number>;
}

type Queryable = Pick<pg.Pool | pg.PoolClient | pg.Client, "query">;

export function executorOf(client: Queryable): SqlExecutor {
  const run = (query: SqlQuery) => client.query({ text: query.text, values: query.values as unknown[], ...(query.name ? { name: query.name } : {}) });
  return {
    rows: async <R extends object>(query: SqlQuery) => (await run(query)).rows as R[],
    execute: async (query: SqlQuery) => (await run(query)).rowCount ?? 0,
  };
}

/**
 * Runs `work` inside BEGIN ... COMMIT on one pooled connection; any error rolls back and is rethrown. A connection
 * whose ROLLBACK failed is destroyed rather than returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (db: SqlExecutor, client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(executorOf(client), client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
