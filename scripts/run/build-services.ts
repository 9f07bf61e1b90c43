/**
 * Compiles services/ to plain JavaScript under dist/ (git-ignored) for `npm start` and `npm run service`: a service
 * then runs on node alone, without the tsx loader transpiling every module in-process (CPU at start, and memory
 * for as long as the process lives). Transpile only, one file at a time (no type check: `npm test` does that),
 * and only files newer than their output, so a warm start costs milliseconds.
 *
 * Layout mirrors the repository (dist/services/<service>/main.js), so paths a module resolves from its own
 * location (schemas/, the live page's assets, node_modules) resolve the same way: dist/schemas links to schemas/,
 * non-TypeScript files are copied beside their modules, and node_modules is found by walking up from dist/.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const COMPILER_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2023,
  verbatimModuleSyntax: true,
  rewriteRelativeImportExtensions: true,
  inlineSourceMap: true,
  inlineSources: false,
};

function isProductionSource(file: string): boolean {
  return !/\.(unit|int|e2e)\.test\.ts$/.test(file) && !file.split(path.sep).includes("test-support");
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

function isStale(source: string, output: string): boolean {
  return !existsSync(output) || statSync(output).mtimeMs < statSync(source).mtimeMs;
}

function emit(source: string, output: string): void {
  const result = ts.transpileModule(readFileSync(source, "utf8"), { compilerOptions: COMPILER_OPTIONS, fileName: source });
  mkdirSync(path.dirname(output), { recursive: true });
  writeFileSync(output, result.outputText);
}

function copyInto(source: string, output: string): void {
  mkdirSync(path.dirname(output), { recursive: true });
  copyFileSync(source, output);
}

/** Brings dist/ up to date with services/; returns the number of files written. */
export function buildServices(repo: string): number {
  const dist = path.join(repo, "dist");
  let written = 0;
  for (const source of walk(path.join(repo, "services"))) {
    const relative = path.relative(repo, source);
    if (source.endsWith(".ts") && !isProductionSource(source)) continue;
    const output = path.join(dist, source.endsWith(".ts") ? relative.replace(/\.ts$/, ".js") : relative);
    if (!isStale(source, output)) continue;
    if (source.endsWith(".ts")) emit(source, output);
    else copyInto(source, output);
    written += 1;
  }
  const schemas = path.join(dist, "schemas");
  if (!existsSync(schemas)) symlinkSync(path.join(repo, "schemas"), schemas, "dir");
  return written;
}

/** The compiled entry point of a service. */
export function serviceEntry(repo: string, service: string): string {
  return path.join(repo, "dist", "services", service, "main.js");
}
