/**
 * `npm run prisma:generate`: generates the Prisma client into services/shared/db/generated (git-ignored).
 * Prisma's CLI downloads its native schema engine before any command, from a host that is unreachable here;
 * `generate` never uses that engine, so PRISMA_SCHEMA_ENGINE_BINARY points at a stub and no download happens.
 * A marker with the schema's fingerprint lets callers (the bootstrap) skip generation when nothing changed.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { runCommand } from "../stack/process.ts";
import { stackPaths } from "../stack/stack-config.ts";
import { dbPaths, elapsedSince, isMainModule } from "./db-paths.ts";

const MARKER = ".schema-fingerprint";
const GENERATE_TIMEOUT_MS = 180_000;

function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  const manifest = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")) as { version: string };
  return manifest.version;
}

/** Changes whenever the schema or the Prisma versions that generate from it change. */
export function schemaFingerprint(schemaPath = dbPaths.schema): string {
  return createHash("sha256")
    .update(readFileSync(schemaPath))
    .update(`\0prisma@${packageVersion("prisma")}\0@prisma/client@${packageVersion("@prisma/client")}`)
    .digest("hex");
}

export function isClientUpToDate(outputDir = dbPaths.generatedClient, schemaPath = dbPaths.schema): boolean {
  const marker = path.join(outputDir, MARKER);
  if (!existsSync(marker) || !existsSync(path.join(outputDir, "client.ts"))) return false;
  return readFileSync(marker, "utf8").trim() === schemaFingerprint(schemaPath);
}

export interface GenerateOptions {
  /** Regenerate even when the marker says the client is current. */
  force?: boolean;
  log?: (line: string) => void;
}

/** Generates the client when the schema changed (or `force`); returns whether it ran. */
export async function generatePrismaClient(options: GenerateOptions = {}): Promise<boolean> {
  const log = options.log ?? ((line: string) => process.stderr.write(`  db        ${line}\n`));
  if (!options.force && isClientUpToDate()) return false;
  const startedAt = Date.now();
  const logs = stackPaths().logs;
  mkdirSync(logs, { recursive: true });
  const logFile = path.join(logs, "prisma-generate.log");
  log("prisma generate ...");
  const cli = createRequire(import.meta.url).resolve("prisma/build/index.js");
  await runCommand("prisma", process.execPath, [cli, "generate", "--schema", dbPaths.schema], {
    cwd: dbPaths.repo,
    logFile,
    timeoutMs: GENERATE_TIMEOUT_MS,
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: dbPaths.schemaEngineStub,
      // No update check or telemetry call to hosts we cannot reach.
      PRISMA_HIDE_UPDATE_MESSAGE: "1",
      CHECKPOINT_DISABLE: "1",
    },
  });
  writeFileSync(path.join(dbPaths.generatedClient, MARKER), `${schemaFingerprint()}\n`);
  log(`prisma generate done in ${elapsedSince(startedAt)}`);
  return true;
}

/** Generates the client only when the schema (or Prisma) changed since the last generation. */
export function ensurePrismaClient(options: Omit<GenerateOptions, "force"> = {}): Promise<boolean> {
  return generatePrismaClient({ ...options, force: false });
}

if (isMainModule(import.meta.url)) {
  generatePrismaClient({ force: process.argv.includes("--force") || !process.argv.includes("--if-changed") }).catch((error: unknown) => {
    process.stderr.write(`prisma:generate failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
