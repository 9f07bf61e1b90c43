import path from "node:path";
import { fileURLToPath } from "node:url";
import { stackPaths } from "../stack/stack-config.ts";

const repo = stackPaths().repo;

/** Where the database tooling finds its inputs; one place so tests can point them elsewhere. */
export const dbPaths = {
  repo,
  schema: path.join(repo, "prisma", "schema.prisma"),
  migrations: path.join(repo, "prisma", "migrations"),
  catalogue: path.join(repo, "prisma", "seed", "catalogue.json"),
  generatedClient: path.join(repo, "services", "shared", "db", "generated"),
  schemaEngineStub: path.join(repo, "scripts", "db", "schema-engine-stub.sh"),
};

export const DEFAULT_DATABASE_URL = "postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow";

export function databaseUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.DATABASE_URL || DEFAULT_DATABASE_URL;
}

/** True when this module is the script node/tsx was started with (so a CLI file can also be imported). */
export function isMainModule(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && path.resolve(entry) === fileURLToPath(importMetaUrl);
}

export function elapsedSince(startedAt: number): string {
  return `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
}
