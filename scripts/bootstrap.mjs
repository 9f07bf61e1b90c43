#!/usr/bin/env node
// Entry point of `npm start`, `npm test`, `npm run stack` and `npm run bench`. Plain JavaScript with no
// dependencies, because it runs before node_modules exists: it installs npm dependencies when they are missing or
// stale, then hands over to the TypeScript command (run by tsx) and passes signals on so Ctrl-C shuts everything down cleanly. Meanwhile it starts
// the stack's long installs (Kafka jars, the registry, the Jaeger build) so they do not wait for npm ci; the stack
// then waits for those same installs instead of starting them again.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { artefactFor, CACHED_COMPONENTS, cacheRoot, ensureArtefact, isComplete, nodeModulesArtefact } from "./stack/artefact-cache.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Ends the background installs when we stop early: a build nobody waits for would only compete for the CPU. */
const background = new AbortController();
const COMMANDS = {
  start: "scripts/start.ts",
  test: "scripts/test.ts",
  stack: "scripts/stack/cli.ts",
  service: "scripts/service.ts",
  bench: "scripts/bench/cli.ts",
};

function fail(message) {
  background.abort();
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

function spawnInherit(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repo, stdio: "inherit" });
    child.on("error", () => resolve(1));
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

/** A fresh clone copies the tree `npm ci` made from the same lockfile in the machine's cache (or makes it there). */
async function copyFromCache(target) {
  const artefact = nodeModulesArtefact(repo);
  if (!isComplete(artefact)) console.error(`  npm       npm ci into ${artefact.dir} (reused by every clone with this lockfile; log ${artefact.logFile}) ...`);
  try {
    await ensureArtefact(artefact, { onWait: (pid) => console.error(`  npm       already under way in process ${pid}; waiting for it`) });
  } catch (error) {
    fail(`${error.message}${error.logFile ? `\n  log:  ${error.logFile}` : ""}\n  fix:  ${error.hint ?? "read the log"}`);
  }
  const partial = `${target}.partial-${process.pid}`;
  if ((await spawnInherit("cp", ["-a", path.join(artefact.dir, "node_modules"), partial])) !== 0) fail(`copying ${artefact.dir} failed: is the disk full?`);
  renameSync(partial, target);
}

async function ensureDependencies() {
  const stamp = path.join(repo, "node_modules", ".orderflow-lock-hash");
  const wanted = lockHash();
  if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) return;
  const startedAt = Date.now();
  const target = path.join(repo, "node_modules");
  console.error(`  npm       installing dependencies ...`);
  if (!existsSync(target)) await copyFromCache(target);
  // An existing tree is synced in place (npm install), which does not wipe node_modules under a running dev server
  // or test run.
  else if ((await spawnInherit("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"])) !== 0) {
    fail("`npm install` failed: check that the npm registry is reachable (npm ping) and read the output above.");
  }
  writeFileSync(stamp, `${lockHash()}\n`); // npm install may have updated the lockfile
  console.error(`  npm       installing dependencies done in ${((Date.now() - startedAt) / 1000).toFixed(1)}s`);
}

/** Which cached stack artefacts this command will need: all for start/test, the named ones for `stack up`. */
function artefactsNeeded(command, args) {
  if (command === "start" || command === "test") return CACHED_COMPONENTS;
  if (command !== "stack" || args[0] !== "up") return [];
  // Component names, not options (`--profile kafka-cluster`); the cluster runs on the kafka jars.
  const named = args.slice(1).filter((arg, i, all) => !arg.startsWith("-") && all[i - 1] !== "--profile");
  const artefacts = named.map((name) => (name === "kafka-cluster" ? "kafka" : name));
  return named.length > 0 ? CACHED_COMPONENTS.filter((name) => artefacts.includes(name)) : CACHED_COMPONENTS;
}

/**
 * Starts the missing artefacts' installs in the background. Failures are silent here: the stack, waiting for the
 * same entry, finds it missing, runs the install itself and reports the error with its log and fix.
 */
function prefetch(names, signal) {
  const state = new Map();
  const missing = names.flatMap((name) => {
    try {
      const artefact = artefactFor(name, repo);
      return isComplete(artefact) ? [] : [artefact];
    } catch {
      return []; // e.g. no Go: the stack says so
    }
  });
  if (missing.length === 0) return state;
  console.error(`  stack     installing ${missing.map((a) => a.component).join(", ")} into ${cacheRoot()} meanwhile (logs in .stack/logs/)`);
  for (const artefact of missing) {
    state.set(artefact.component, "installing");
    ensureArtefact(artefact, { signal }).then(
      () => state.set(artefact.component, "done"),
      () => state.set(artefact.component, "failed, retried by the stack"),
    );
  }
  return state;
}

/** Every 30 s while npm installs, a line saying it (and the background installs) still work: nothing looks hung. */
function heartbeat(background) {
  const startedAt = Date.now();
  const timer = setInterval(() => {
    const others = [...background].map(([name, what]) => `${name} ${what}`).join(", ");
    console.error(
      `  npm       installing dependencies ... still working (${((Date.now() - startedAt) / 1000).toFixed(0)}s)${others ? `; meanwhile ${others}` : ""}`,
    );
  }, 30_000);
  return () => clearInterval(timer);
}

function run(command, args, onExit) {
  const script = COMMANDS[command];
  if (!script) fail(`unknown command "${command}"; expected one of ${Object.keys(COMMANDS).join(", ")}`);
  // node --import tsx rather than the tsx binary: one process instead of a wrapper with the script in a grandchild.
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repo, script), ...args], { cwd: repo, stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    onExit();
    process.exit(code ?? (signal ? 128 + 2 : 1));
  });
}

checkNode();
const [command, ...args] = process.argv.slice(2);
const stopHeartbeat = heartbeat(prefetch(artefactsNeeded(command, args), background.signal));
await ensureDependencies();
stopHeartbeat();
run(command, args, () => background.abort());
