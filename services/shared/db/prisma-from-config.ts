import type pg from "pg";
import type { AppConfig } from "../config/config-schema.ts";
import type { Logger } from "../logging/create-logger.ts";
import { createPrisma } from "./create-prisma.ts";
import type { PrismaClient } from "./generated/client.ts";
import { poolFromConfig } from "./pool.ts";

/** One pool for the raw-SQL path and Prisma alike. `close()` disconnects Prisma, then ends the pool. */
export interface Database {
  pool: pg.Pool;
  prisma: PrismaClient;
  close(): Promise<void>;
}

export function databaseFromConfig(config: AppConfig, applicationName: string, logger: Logger): Database {
  const pool = poolFromConfig(config, applicationName, logger);
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
