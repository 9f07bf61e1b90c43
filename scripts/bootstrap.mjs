#!/usr/bin/env node
// Entry point of `npm start`, `npm test` and `npm run stack`. Plain JavaScript with no dependencies, because it runs
// before node_modules exists: it installs npm dependencies when they are missing or stale, then hands over to the
// TypeScript command (run by tsx) and passes signals on so Ctrl-C shuts everything down cleanly.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const COMMANDS = { start: "scripts/start.ts", test: "scripts/test.ts", stack: "scripts/stack/cli.ts", service: "scripts/service.ts" };

function fail(message) {
  console.error(`\norderflow: ${message}`);
  process.exit(1);
}

function checkNode() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 19)) fail(`Node ${process.versions.node} is too old: Node 20.19 or newer is required.`);
}

function lockHash() {
  const lock = path.join(repo, "package-lock.json");
  if (!existsSync(lock)) fail("package-lock.json is missing: the install would not be reproducible.");
  return createHash("sha256").update(readFileSync(lock)).digest("hex");
}

function ensureDependencies() {
  const stamp = path.join(repo, "node_modules", ".orderflow-lock-hash");
  const wanted = lockHash();
  if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) return;
  const startedAt = Date.now();
  // A fresh clone gets the exact lockfile tree (npm ci); an existing tree is synced in place (npm install), which
  // does not wipe node_modules under a running dev server or test run.
  const fresh = !existsSync(path.join(repo, "node_modules"));
  const args = fresh ? ["ci", "--no-audit", "--no-fund", "--loglevel=error"] : ["install", "--no-audit", "--no-fund", "--loglevel=error"];
  console.error(`  npm       installing dependencies (npm ${args[0]}) ...`);
  const result = spawnSync("npm", args, { cwd: repo, stdio: "inherit" });
  if (result.status !== 0) fail(`\`npm ${args[0]}\` failed: check that the npm registry is reachable (npm ping) and read the output above.`);
  writeFileSync(stamp, `${lockHash()}\n`); // npm install may have updated the lockfile
  console.error(`  npm       installing dependencies done in ${((Date.now() - startedAt) / 1000).toFixed(1)}s`);
}

function run(command, args) {
  const script = COMMANDS[command];
  if (!script) fail(`unknown command "${command}"; expected one of ${Object.keys(COMMANDS).join(", ")}`);
  // node --import tsx rather than the tsx binary: one process instead of a wrapper with the script in a grandchild.
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repo, script), ...args], { cwd: repo, stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 2 : 1)));
}

checkNode();
ensureDependencies();
run(process.argv[2], process.argv.slice(3));
