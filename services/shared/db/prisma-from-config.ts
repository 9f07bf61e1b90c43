import type pg from "pg";
import type { AppConfig } from "../config/config-schema.ts";
import type { Logger } from "../logging/create-logger.ts";
import { createPrisma } from "./create-prisma.ts";
import type { PrismaClient } from "./generated/client.ts";
import { createPool, type PoolOptions } from "./pool.ts";

function poolOptionsFrom(config: AppConfig, applicationName: string, logger: Logger): PoolOptions {
  return {
    poolSize: config.DATABASE_POOL_SIZE,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TX_TIMEOUT_MS,
    applicationName,
    onPoolError: (error) => logger.warn({ err: error }, "idle database connection failed"),
  };
}

/** One pool for the raw-SQL path and Prisma alike. `close()` disconnects Prisma, then ends the pool. */
export interface Database {
  pool: pg.Pool;
  prisma: PrismaClient;
  close(): Promise<void>;
}

export function databaseFromConfig(config: AppConfig, applicationName: string, logger: Logger): Database {
  const pool = createPool(config.DATABASE_URL, poolOptionsFrom(config, applicationName, logger));
  const prisma = createPrisma(config.DATABASE_URL, { pool });
  return {
    pool,
    prisma,
    close: async () => {
      await prisma.$disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}
