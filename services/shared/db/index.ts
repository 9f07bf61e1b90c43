// The database layer's public surface: import from here, not from ./generated (generated, git-ignored).
export { createPrisma, type PrismaOptions } from "./create-prisma.ts";
export { createPool, poolConfig, POOL_DEFAULTS, type PoolOptions } from "./pool.ts";
export { databaseFromConfig, type Database } from "./prisma-from-config.ts";
export { executorOf, inTransaction, raw, sql, type SqlExecutor, type SqlFragment, type SqlQuery } from "./sql.ts";
export {
  DatabaseUnavailableError,
  connectionFailureCode,
  describeDatabaseUrl,
  isDatabaseUnavailable,
  mapDatabaseErrors,
  toDatabaseError,
} from "./database-errors.ts";
export { Prisma, PrismaClient } from "./generated/client.ts";
export type * from "./generated/models.ts";
export * from "./generated/enums.ts";
