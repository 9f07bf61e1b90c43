import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client.ts";

export interface PrismaOptions {
  /** Most connections the pool opens (per process). */
  poolSize?: number;
  /** How long to wait for a connection (new or from the pool) before failing. */
  connectTimeoutMs?: number;
  /** PostgreSQL statement_timeout per connection: no query holds locks or a connection forever. */
  statementTimeoutMs?: number;
  /** Idle connections are closed after this long. */
  idleTimeoutMs?: number;
  /** Shows in pg_stat_activity, so a stuck query can be traced to its service. */
  applicationName?: string;
  /** Called with errors of idle pooled connections (e.g. the server restarted); they are otherwise harmless. */
  onPoolError?: (error: Error) => void;
}

export const PRISMA_DEFAULTS = {
  poolSize: 10,
  connectTimeoutMs: 3_000,
  statementTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
} as const;

/**
 * A PrismaClient on the pg driver adapter (no native query engine). The caller owns it: `$disconnect()` on
 * shutdown. Connection failures surface as errors that isDatabaseUnavailable() recognises.
 */
export function createPrisma(databaseUrl: string, options: PrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg(
    {
      connectionString: databaseUrl,
      max: options.poolSize ?? PRISMA_DEFAULTS.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs ?? PRISMA_DEFAULTS.connectTimeoutMs,
      idleTimeoutMillis: options.idleTimeoutMs ?? PRISMA_DEFAULTS.idleTimeoutMs,
      statement_timeout: options.statementTimeoutMs ?? PRISMA_DEFAULTS.statementTimeoutMs,
      // Also bounds time spent waiting on a dead socket, which statement_timeout (server side) cannot.
      query_timeout: (options.statementTimeoutMs ?? PRISMA_DEFAULTS.statementTimeoutMs) + 2_000,
      application_name: options.applicationName ?? "orderflow",
    },
    { onPoolError: options.onPoolError ?? (() => undefined) },
  );
  return new PrismaClient({ adapter });
}
