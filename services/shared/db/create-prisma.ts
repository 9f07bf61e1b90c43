import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import { PrismaClient } from "./generated/client.ts";
import { poolConfig, type PoolOptions } from "./pool.ts";

export type PrismaOptions = PoolOptions & {
  /** Use this pool (shared with the raw-SQL path) instead of opening one from the options above. */
  pool?: pg.Pool;
};

/**
 * A PrismaClient on the pg driver adapter (no native query engine). The caller owns it: `$disconnect()` on
 * shutdown (a pool passed in stays the caller's to end). Connection failures surface as errors that
 * isDatabaseUnavailable() recognises.
 */
export function createPrisma(databaseUrl: string, options: PrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg(options.pool ?? poolConfig(databaseUrl, options), { onPoolError: options.onPoolError ?? (() => undefined) });
  return new PrismaClient({ adapter });
}
