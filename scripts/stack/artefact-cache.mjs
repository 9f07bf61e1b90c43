// The stack's built and downloaded artefacts (Jaeger binary, Kafka jars, the registry distribution), kept once per
// user and machine in ~/.cache/orderflow and linked from each clone's .stack/. Plain JavaScript with no
// dependencies: scripts/bootstrap.mjs starts these installs before node_modules exists, at the same time as npm ci,
// and the TypeScript stack then waits for the same entries (a lock per entry keeps two processes from building one
// thing twice, whether they are one `npm test` or two clones).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Apicurio Registry, a Confluent-compatible schema registry published on Maven Central as a runnable Quarkus app. */
export const REGISTRY_VERSION = "3.3.3";
export const REGISTRY_ARTIFACT = `io.apicurio:apicurio-registry-app:${REGISTRY_VERSION}:tar.gz:all`;
/** Jaeger v2 is the cmd/jaeger package of the v1.x Go module (its v2 tags are not served as a module). */
const JAEGER_PACKAGE = "github.com/jaegertracing/jaeger/cmd/jaeger";
const COMPLETE = ".complete";
const INSTALL_TIMEOUT_MS = 30 * 60_000;
/** A lock whose pid file is not written yet is fresh for this long (mkdir and the write are two steps). */
const FRESH_LOCK_MS = 10_000;

/** .stack/ of a clone (ORDERFLOW_STACK_DIR moves it). */
export function stackRoot(repo, env = process.env) {
  return env.ORDERFLOW_STACK_DIR ? path.resolve(env.ORDERFLOW_STACK_DIR) : path.join(repo, ".stack");
}

/** Per user and machine; ORDERFLOW_CACHE_DIR moves it, deleting it only costs a rebuild. */
export function cacheRoot(env = process.env) {
  if (env.ORDERFLOW_CACHE_DIR) return path.resolve(env.ORDERFLOW_CACHE_DIR);
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "orderflow");
}

/** A failed command: names it, its exit and the log that holds its output. */
export class CommandError extends Error {
  constructor(message, logFile, hint) {
    super(message);
    this.name = "CommandError";
    this.logFile = logFile;
    this.hint = hint;
  }
}

/**
 * Runs a command to completion, output appended to logFile; a non-zero exit, a timeout or an abort rejects, naming
 * it by label (default: the command and its first arguments).
 */
export function runLogged(command, args, { cwd, env, logFile, timeoutMs, signal, label, hint }) {
  const name = label ?? `${path.basename(command)} ${args.slice(0, 3).join(" ")}`;
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, "a");
  writeFileSync(fd, `\n$ ${[command, ...args].join(" ")}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ["ignore", fd, fd], signal });
    closeSync(fd);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new CommandError(`${name} timed out after ${timeoutMs / 1000}s`, logFile));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new CommandError(error.name === "AbortError" ? `${name} stopped: another step failed` : `cannot run ${name}: ${error.message}`, logFile));
    });
    child.on("exit", (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new CommandError(`${name} failed (exit ${code ?? sig})`, logFile, hint));
    });
  });
}

function sha256(...parts) {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex").slice(0, 16);
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `go` on PATH, else the tarball's default location (non-login shells often miss /usr/local/go/bin). */
export function findGo(env = process.env) {
  const dirs = [...(env.PATH ?? "").split(path.delimiter).filter(Boolean), "/usr/local/go/bin"];
  const found = dirs.map((dir) => path.join(dir, "go")).find(isExecutable);
  if (found) return found;
  throw new CommandError(
    "the Go toolchain (`go`) is needed to build Jaeger v2 and was not found on PATH",
    undefined,
    "install Go >= 1.26 (https://go.dev/dl/, e.g. into /usr/local/go) and put its bin/ on PATH",
  );
}

/**
 * An artefact: where its cache entry is (the key is a hash of every input, so a changed input is a new entry and an
 * entry is never rewritten), where a clone links it, and how to build it into an empty folder.
 */
function jaeger(repo, logs) {
  const src = path.join(repo, "infra", "jaeger");
  const go = findGo();
  // The toolchain is an input too: a Go upgrade must not reuse a binary of the old one.
  const goVersion = spawnSync(go, ["env", "GOVERSION", "GOOS", "GOARCH"], { encoding: "utf8", timeout: 30_000 }).stdout ?? "";
  // -s -w: no symbol table or DWARF (panics still show Go stack traces): a smaller binary that links sooner.
  const buildArgs = ["build", "-trimpath", "-ldflags=-s -w"];
  const key = sha256(...["go.mod", "go.sum", "tools.go"].map((f) => readFileSync(path.join(src, f))), goVersion, buildArgs.join(" "));
  return {
    component: "jaeger",
    what: "go build Jaeger v2 (an empty Go cache downloads modules and compiles: minutes)",
    dir: path.join(cacheRoot(), "jaeger", key),
    logFile: path.join(logs, "jaeger-build.log"),
    async build(staging, signal) {
      // -mod=readonly: the committed go.mod/go.sum pin every module; a build must never rewrite them.
      const env = { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=readonly -buildvcs=false" };
      await runLogged(go, [...buildArgs, "-o", path.join(staging, "jaeger"), JAEGER_PACKAGE], {
        cwd: src,
        env,
        logFile: this.logFile,
        timeoutMs: INSTALL_TIMEOUT_MS,
        signal,
      });
    },
  };
}

function kafkaLibs(repo, logs) {
  const pom = path.join(repo, "infra", "kafka", "pom.xml");
  return {
    component: "kafka",
    what: "resolving Kafka jars from Maven Central (infra/kafka/pom.xml)",
    dir: path.join(cacheRoot(), "kafka-libs", sha256(readFileSync(pom))),
    logFile: path.join(logs, "kafka-install.log"),
    async build(staging, signal) {
      await runLogged("mvn", ["-q", "-B", "-f", pom, "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${staging}`], {
        logFile: this.logFile,
        timeoutMs: INSTALL_TIMEOUT_MS,
        signal,
      });
    },
  };
}

function registryApp(repo, logs) {
  const pom = path.join(repo, "infra", "registry", "pom.xml");
  return {
    component: "registry",
    what: `fetching and unpacking Apicurio Registry ${REGISTRY_VERSION} from Maven Central`,
    dir: path.join(cacheRoot(), "registry", `apicurio-registry-${REGISTRY_VERSION}-${sha256(readFileSync(pom), REGISTRY_ARTIFACT)}`),
    logFile: path.join(logs, "registry-install.log"),
    async build(staging, signal) {
      const download = `${staging}.download`;
      rmSync(download, { recursive: true, force: true });
      const common = { logFile: this.logFile, timeoutMs: INSTALL_TIMEOUT_MS, signal };
      try {
        await runLogged("mvn", ["-q", "-B", "-f", pom, "dependency:copy", `-Dartifact=${REGISTRY_ARTIFACT}`, `-DoutputDirectory=${download}`], common);
        await runLogged("tar", ["-xzf", path.join(download, `apicurio-registry-app-${REGISTRY_VERSION}-all.tar.gz`), "-C", staging], common);
      } finally {
        rmSync(download, { recursive: true, force: true }); // the tarball (150+ MB) is in ~/.m2 anyway
      }
      if (!existsSync(path.join(staging, "quarkus-run.jar"))) throw new CommandError(`the ${REGISTRY_ARTIFACT} archive has no quarkus-run.jar`, this.logFile);
    },
  };
}

/**
 * node_modules as `npm ci` makes it from this lockfile with this Node, installed once per machine and copied into
 * each fresh clone: a copy, not hard links, because tools write into node_modules (caches, npm's hidden lockfile)
 * and a shared inode would carry one clone's writes into every other.
 */
export function nodeModulesArtefact(repo, env = process.env) {
  const inputs = ["package.json", "package-lock.json"];
  const key = sha256(...inputs.map((f) => readFileSync(path.join(repo, f))), process.version, process.platform, process.arch);
  return {
    component: "npm",
    what: "npm ci",
    dir: path.join(cacheRoot(env), "node_modules", key),
    logFile: path.join(stackRoot(repo, env), "logs", "npm-install.log"),
    async build(staging, signal) {
      for (const file of inputs) writeFileSync(path.join(staging, file), readFileSync(path.join(repo, file)));
      // --prefer-offline: what the npm cache holds is used without asking the registry whether it is still current.
      await runLogged("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
        cwd: staging,
        logFile: this.logFile,
        timeoutMs: INSTALL_TIMEOUT_MS,
        signal,
        label: "npm ci",
        hint: "check that the npm registry is reachable (npm ping)",
      });
    },
  };
}

const ARTEFACTS = { jaeger, kafka: kafkaLibs, registry: registryApp };

/** The artefact a stack component installs from the cache, by component name. */
export function artefactFor(component, repo, env = process.env) {
  const make = ARTEFACTS[component];
  if (!make) throw new Error(`no cached artefact for ${component}`);
  return make(repo, path.join(stackRoot(repo, env), "logs"));
}

export const CACHED_COMPONENTS = Object.keys(ARTEFACTS);

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/** The pid holding the lock, or undefined when the lock is stale (its holder died). */
function lockHolder(lock) {
  try {
    const pid = Number(readFileSync(path.join(lock, "pid"), "utf8"));
    return isAlive(pid) ? pid : undefined;
  } catch {
    try {
      return Date.now() - statSync(lock).mtimeMs < FRESH_LOCK_MS ? -1 : undefined;
    } catch {
      return -1; // released just now: look again
    }
  }
}

async function buildEntry(artefact, signal) {
  const staging = `${artefact.dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await artefact.build(staging, signal);
    writeFileSync(path.join(staging, COMPLETE), `${new Date().toISOString()}\n`);
    rmSync(artefact.dir, { recursive: true, force: true }); // an incomplete entry of a killed older run
    renameSync(staging, artefact.dir); // complete or absent: never half there
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export function isComplete(artefact) {
  return existsSync(path.join(artefact.dir, COMPLETE));
}

/**
 * Returns the cache entry's folder once it is complete: at once when it is, after building it when nobody else is,
 * or after waiting for the process that is (onWait(pid) is told once). A holder that dies hands the build over.
 */
export async function ensureArtefact(artefact, { signal, onWait, timeoutMs = INSTALL_TIMEOUT_MS } = {}) {
  const lock = `${artefact.dir}.lock`;
  const deadline = Date.now() + timeoutMs;
  let told = false;
  mkdirSync(path.dirname(artefact.dir), { recursive: true });
  for (;;) {
    if (isComplete(artefact)) return artefact.dir;
    try {
      mkdirSync(lock);
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      const holder = lockHolder(lock);
      if (holder === undefined) rmSync(lock, { recursive: true, force: true });
      else {
        if (!told && holder > 0) onWait?.(holder);
        told ||= holder > 0;
        if (Date.now() > deadline) throw new CommandError(`still being installed by pid ${holder} after ${timeoutMs / 1000}s`, artefact.logFile);
        if (signal?.aborted) throw new CommandError("stopped: another step failed", artefact.logFile);
        await sleep(500);
      }
      continue;
    }
    try {
      writeFileSync(path.join(lock, "pid"), String(process.pid));
      await buildEntry(artefact, signal);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/**
 * Points `link` (a path in .stack/) at target, replacing whatever was there (an older layout's real folder).
 * Returns false when it already pointed there.
 */
export function linkTo(link, target) {
  let existing;
  try {
    existing = lstatSync(link);
  } catch {
    /* nothing there yet */
  }
  if (existing?.isSymbolicLink() && readlinkSync(link) === target) return false;
  mkdirSync(path.dirname(link), { recursive: true });
  if (existing && !existing.isSymbolicLink()) rmSync(link, { recursive: true, force: true });
  const temp = `${link}.link-${process.pid}`;
  rmSync(temp, { force: true });
  symlinkSync(target, temp);
  renameSync(temp, link); // atomic: a reader sees the old or the new link, never none
  return true;
}
