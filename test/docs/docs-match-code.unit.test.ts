/**
 * README.md and docs/*.md name files, npm scripts and environment variables; each must still exist, so a rename or
 * a removal in the code fails here instead of leaving a newcomer with a command or a path that is not there.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const DOCS = [
  "README.md",
  ...readdirSync(path.join(repo, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
/** npm's own commands, not package.json scripts. */
const NPM_COMMANDS = new Set(["test", "start", "ci", "install", "run", "exec", "ls"]);
/** Top folders of the repository: a path starting with one of these is checked. */
const ROOTS = ["services", "scripts", "test", "infra", "prisma", "schemas", "docs"];
const CODE_DIRS = ["services", "scripts", "test", "infra", "prisma"];

function read(file: string): string {
  return readFileSync(path.join(repo, file), "utf8");
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(repo, dir))) {
    const rel = `${dir}/${entry}`;
    if (entry === "node_modules" || entry === "generated") continue;
    if (statSync(path.join(repo, rel)).isDirectory()) out.push(...filesUnder(rel));
    else out.push(rel);
  }
  return out;
}

/** Where a doc's statements are checked against: every code and config file's text. */
const codeText = [".env.example", "package.json", "vitest.config.ts", "eslint.config.js", ...CODE_DIRS.flatMap(filesUnder)]
  .filter((file) => /\.(ts|mjs|js|json|ya?ml|sql|sh|prisma|xml|toml|avsc)$|^\.env/.test(file))
  .map(read)
  .join("\n");

function eachDoc<T>(find: (text: string) => T[]): Array<{ doc: string; found: T }> {
  return DOCS.flatMap((doc) => find(read(doc)).map((found) => ({ doc, found })));
}

/**
 * A path names a file or folder that exists; a glob (`*`) names a folder that exists; a test may be named without
 * its `.test.ts` (relay-ordering.int).
 */
function pathExists(named: string): boolean {
  const clean = named.replace(/[).,:;]+$/, "").replace(/\/$/, "");
  if (/\.(unit|int|e2e)$/.test(clean) && existsSync(path.join(repo, `${clean}.test.ts`))) return true;
  const star = clean.indexOf("*");
  const checked = star === -1 ? clean : clean.slice(0, clean.lastIndexOf("/", star));
  return existsSync(path.join(repo, checked));
}

describe("docs match the code", () => {
  it("every npm script they name exists in package.json", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    const named = eachDoc((text) => [...text.matchAll(/npm run ([a-z][\w:-]*)/g)].map((m) => m[1] ?? ""));
    const missing = named.filter(({ found }) => !NPM_COMMANDS.has(found) && !(found in scripts)).map(({ doc, found }) => `${doc}: npm run ${found}`);
    expect(missing).toEqual([]);
  });

  it("every repository path they name exists", () => {
    const pattern = new RegExp(`(?<![\\w./@-])(?:${ROOTS.join("|")})/[\\w.*{}/-]*[\\w*/]`, "g");
    const named = eachDoc((text) => [...text.matchAll(pattern)].map((m) => m[0]).filter((p) => !p.includes("{")));
    const missing = named.filter(({ found }) => !pathExists(found)).map(({ doc, found }) => `${doc}: ${found}`);
    expect(missing).toEqual([]);
  });

  it("every environment variable they name is read or documented by the code", () => {
    const named = eachDoc((text) => [...text.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=[^`]*)?`/g)].map((m) => m[1] ?? ""));
    const missing = named.filter(({ found }) => !codeText.includes(found)).map(({ doc, found }) => `${doc}: ${found}`);
    expect(missing).toEqual([]);
  });
});
