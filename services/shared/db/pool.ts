/**
 * The one pg.Pool factory of every service: the raw-SQL path (sql.ts) and Prisma (create-prisma.ts) share it, so
 * a process holds one set of connections with one set of session safety settings.
 *
 * Why each setting: a process that freezes or loses its host without closing its socket must not hold locks (row
 * locks, advisory locks of relay shards) for the ~2 h Linux takes to notice. idle_in_transaction_session_timeout
 * ends a transaction whose client stopped talking; the server-side TCP keepalives end a session whose host is
 * gone; the client-side keepalive and query_timeout bound how long this side waits on a dead server.
 */
import pg from "pg";
import type { AppConfig } from "../config/config-schema.ts";
import type { Logger } from "../logging/create-logger.ts";

export interface PoolOptions {
  /** Most connections the pool opens (per process). */
  poolSize?: number;
  /** How long to wait for a connection (new or from the pool) before failing. */
  connectTimeoutMs?: number;
  /** PostgreSQL statement_timeout per connection: no query holds locks or a connection forever. */
  statementTimeoutMs?: number;
  /** PostgreSQL idle_in_transaction_session_timeout: a transaction whose client went silent is ended. */
  idleInTransactionTimeoutMs?: number;
  /** Idle connections are closed after this long. */
  idleTimeoutMs?: number;
  /** Shows in pg_stat_activity, so a stuck query can be traced to its service. */
  applicationName?: string;
  /** Called with errors of idle pooled connections (e.g. the server restarted); they are otherwise harmless. */
  onPoolError?: (error: Error) => void;
}

export const POOL_DEFAULTS = {
  poolSize: 10,
  connectTimeoutMs: 3_000,
  statementTimeoutMs: 10_000,
  idleInTransactionTimeoutMs: 15_000,
  idleTimeoutMs: 30_000,
} as const;

/** Server-side keepalives: a silent peer is dropped after about idle + interval x count = 10 + 3 x 5 = 25 s. */
const SERVER_KEEPALIVES = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3";

export function poolConfig(databaseUrl: string, options: PoolOptions = {}): pg.PoolConfig {
  const statementTimeout = options.statementTimeoutMs ?? POOL_DEFAULTS.statementTimeoutMs;
  const idleInTx = options.idleInTransactionTimeoutMs ?? POOL_DEFAULTS.idleInTransactionTimeoutMs;
  return {
    connectionString: databaseUrl,
    max: options.poolSize ?? POOL_DEFAULTS.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? POOL_DEFAULTS.connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs ?? POOL_DEFAULTS.idleTimeoutMs,
    statement_timeout: statementTimeout,
    idle_in_transaction_session_timeout: idleInTx,
    // Also bounds time spent waiting on a dead socket, which statement_timeout (server side) cannot.
    query_timeout: statementTimeout + 2_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    options: SERVER_KEEPALIVES,
    application_name: options.applicationName ?? "orderflow",
  };
}

/** A pool whose idle-connection errors go to `onPoolError` instead of crashing the process. */
export function createPool(databaseUrl: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool(poolConfig(databaseUrl, options));
  pool.on("error", options.onPoolError ?? (() => undefined));
  return pool;
}

/**
 * The pool a service's configuration asks for, without Prisma: the consumer services write only raw SQL, and not
 * loading the Prisma client keeps them 100 MB smaller.
 */
export function poolFromConfig(config: AppConfig, applicationName: string, logger: Logger): pg.Pool {
  return createPool(config.DATABASE_URL, {
    poolSize: config.DATABASE_POOL_SIZE,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TX_TIMEOUT_MS,
    applicationName,
    onPoolError: (error) => logger.warn({ err: error }, "idle database connection failed"),
  });
}
