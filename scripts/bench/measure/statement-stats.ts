import { withClient } from "../pipeline/bench-database.ts";

export interface StatementStat {
  calls: number;
  totalMs: number;
  meanMs: number;
  rows: number;
  query: string;
}

/**
 * pg_stat_statements, when the cluster preloads it and the extension exists in the database of `adminUrl`
 * (docs/performance.md says how; not in the benchmark's own database, whose schema every run drops). Optional:
 * without it these return false / null and the run goes on.
 */
export async function resetStatementStats(adminUrl: string): Promise<boolean> {
  return withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'");
    if (rowCount === 0) return false;
    await client.query("SELECT pg_stat_statements_reset()");
    return true;
  }).catch(() => false);
}

/** The statements of `database` that took the most execution time since the reset. */
export async function topStatements(adminUrl: string, database: string, limit = 15): Promise<StatementStat[] | null> {
  return withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ calls: string; total_ms: number; mean_ms: number; rows: string; query: string }>(
      `SELECT calls::text, total_exec_time AS total_ms, mean_exec_time AS mean_ms, rows::text, query
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
        ORDER BY total_exec_time DESC LIMIT $2`,
      [database, limit],
    );
    return rows.map((row) => ({
      calls: Number(row.calls),
      totalMs: Math.round(row.total_ms),
      meanMs: Math.round(row.mean_ms * 1000) / 1000,
      rows: Number(row.rows),
      query: row.query.replace(/\s+/g, " ").slice(0, 200),
    }));
  }).catch(() => null);
}
