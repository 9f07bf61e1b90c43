// The database layer's public surface: import from here, not from ./generated (generated, git-ignored).
export { createPrisma, PRISMA_DEFAULTS, type PrismaOptions } from "./create-prisma.ts";
export { prismaFromConfig } from "./prisma-from-config.ts";
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
