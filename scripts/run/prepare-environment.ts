import type { StackContext } from "../stack/context.ts";
import { loadConfig } from "../../services/shared/config/load-config.ts";
import { ensurePrismaClient } from "../db/generate.ts";
import { applyMigrations, resetDatabase } from "../db/migrate.ts";
import { ensureChromium } from "./ensure-chromium.ts";

/** Environment of `npm start`: the dev database, unprefixed topics. Explicit variables win. */
export function devEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env };
}

/**
 * Environment of `npm test`: its own database and topic prefix, so tests never touch the data of a running `npm start`.
 * TEST_DATABASE_URL / TEST_TOPIC_PREFIX override; TEST_INT_WORKERS sets how many int files run at once.
 */
export function testEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const port = env.POSTGRES_PORT || "5432";
  return {
    ...env,
    NODE_ENV: "test",
    DATABASE_URL: env.TEST_DATABASE_URL || `postgresql://orderflow:orderflow@127.0.0.1:${port}/orderflow_test`,
    TOPIC_PREFIX: env.TEST_TOPIC_PREFIX || "test.",
    API_PORT: env.TEST_API_PORT || "3100",
    LOG_LEVEL: env.LOG_LEVEL || "warn",
    // Int files side by side, each worker on its own database (scripts/run/worker-databases.ts): the tier waits
    // mostly on Kafka and timers, so two workers on two cores roughly halve it.
    TEST_INT_WORKERS: env.TEST_INT_WORKERS || "2",
  };
}

export interface PrepareOptions {
  /** Drop and recreate the schema first (tests start from a known state). */
  resetDatabase: boolean;
  /** Load the demo catalogue when the products table is empty (dev); tests seed what they need themselves. */
  seedWhenEmpty: boolean;
}

async function seedIfEmpty(ctx: StackContext, databaseUrl: string): Promise<void> {
  // Imported late: the generated client exists only after ensurePrismaClient().
  const { createPrisma } = await import("../../services/shared/db/index.ts");
  const { seedCatalogue } = await import("../db/seed.ts");
  const prisma = createPrisma(databaseUrl, { poolSize: 2 });
  try {
    if ((await prisma.product.count()) > 0) return;
    const count = await seedCatalogue(prisma);
    ctx.info("postgres", `seeded the demo catalogue (${count} products); reseed any time with npm run db:seed`);
  } finally {
    await prisma.$disconnect();
  }
}

/** The generated Prisma client: needed by the type check and every tier, not by the stack. */
export function generateClient(ctx: StackContext): Promise<boolean> {
  return ctx.step("prisma", "generating the client (when the schema changed)", () => ensurePrismaClient());
}

/** What needs the stack up: the database's migrations (after a reset for tests), demo data, the test browser. */
export async function prepareDatabase(ctx: StackContext, env: NodeJS.ProcessEnv, options: PrepareOptions): Promise<void> {
  const config = loadConfig(env);
  if (options.resetDatabase) await ctx.step("postgres", "resetting the test database", () => resetDatabase(config.DATABASE_URL));
  await ctx.step("postgres", "applying migrations", () => applyMigrations(config.DATABASE_URL));
  if (options.seedWhenEmpty) await seedIfEmpty(ctx, config.DATABASE_URL);
  // Only the tests drive a browser (live page e2e); skipped when /usr/bin/chromium exists.
  if (env.NODE_ENV === "test") await ensureChromium(ctx);
}

/** Everything between "the stack is up" and "services can start": client generation, migrations, demo data. */
export async function prepareEnvironment(ctx: StackContext, env: NodeJS.ProcessEnv, options: PrepareOptions): Promise<void> {
  await generateClient(ctx);
  await prepareDatabase(ctx, env, options);
}
