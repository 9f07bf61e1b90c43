import type { AppConfig } from "../config/config-schema.ts";
import type { Logger } from "../logging/create-logger.ts";
import { createPrisma } from "./create-prisma.ts";
import type { PrismaClient } from "./generated/client.ts";

/** A service's Prisma client from validated configuration (DATABASE_* variables); pool errors are logged, not thrown. */
export function prismaFromConfig(config: AppConfig, applicationName: string, logger: Logger): PrismaClient {
  return createPrisma(config.DATABASE_URL, {
    poolSize: config.DATABASE_POOL_SIZE,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    applicationName,
    onPoolError: (error) => logger.warn({ err: error }, "idle database connection failed"),
  });
}
