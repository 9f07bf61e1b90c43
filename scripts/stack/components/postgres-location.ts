import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { StackError } from "../errors.ts";

/**
 * Where the PostgreSQL cluster lives. Normally .stack/postgres. initdb and pg_ctl refuse to run as root, so as root
 * the cluster belongs to the `postgres` OS user, which cannot reach .stack/ when a parent folder of the clone is not
 * searchable by others (a 0700 home such as /root). Then the cluster goes under that user's home instead, in a
 * folder named after the clone's path, and .stack/postgres becomes a symlink to it: the choice is made once and
 * kept, and a person finds the data and its log from the clone.
 */
export interface ClusterPlace {
  /** Folder holding data/, run/ (socket), the server log and the password file. */
  root: string;
  /** Why it is not under .stack/ (for the progress line and `stack status`); undefined when it is. */
  outsideBecause: string | undefined;
}

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface PlaceInputs {
  /** .stack/ of this clone, absolute and resolved. */
  stackRoot: string;
  /** The user the cluster runs as; undefined when we are not root (the cluster is then ours). */
  runAs: OsUser | undefined;
  /** Target of .stack/postgres when it is already a symlink (a choice made by an earlier run). */
  pinned: string | undefined;
  /** A cluster already initialised in .stack/postgres/data stays there. */
  clusterInStack: boolean;
  /** Whether runAs can traverse every folder down to the parent of stackRoot (asked only when it matters). */
  runAsReachesStack: () => boolean;
}

/** The folder outside the clone: one per .stack/ path, so two clones never share a cluster. */
export function outsideRoot(home: string, stackRoot: string): string {
  const id = createHash("sha256").update(stackRoot).digest("hex").slice(0, 12);
  return path.join(home, "orderflow", `${path.basename(path.dirname(stackRoot))}-${id}`);
}

/** Pure decision, so the rules are unit-tested; placeCluster() gathers the facts and acts on it. */
export function chooseClusterPlace(inputs: PlaceInputs): ClusterPlace {
  const inStack = path.join(inputs.stackRoot, "postgres");
  if (inputs.pinned) return { root: inputs.pinned, outsideBecause: `.stack/postgres links there (chosen by an earlier run)` };
  if (!inputs.runAs || inputs.clusterInStack || inputs.runAsReachesStack()) return { root: inStack, outsideBecause: undefined };
  return {
    root: outsideRoot(inputs.runAs.home, inputs.stackRoot),
    outsideBecause: `the ${inputs.runAs.name} OS user cannot reach ${path.dirname(inputs.stackRoot)} (a parent folder is not searchable by others, e.g. mode 0700)`,
  };
}

export function osUser(name: string): OsUser {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new StackError("postgres", `OS user ${name} is missing`, { hint: "apt-get install postgresql creates it" });
  const [, , uid, gid, , home] = line.split(":");
  return { name, uid: Number(uid), gid: Number(gid), home: home || "/var/lib/postgresql" };
}

/** A real check as that user (ACLs and group bits included), not a guess from mode bits. */
function canTraverse(user: OsUser, dir: string): boolean {
  return spawnSync("runuser", ["-u", user.name, "--", "test", "-x", dir], { stdio: "ignore", timeout: 10_000 }).status === 0;
}

function pinnedTarget(link: string): string | undefined {
  try {
    return lstatSync(link).isSymbolicLink() ? path.resolve(path.dirname(link), readlinkSync(link)) : undefined;
  } catch {
    return undefined;
  }
}

const decided = new Map<string, ClusterPlace>();

/** Decides once per process and .stack/, without touching the disk (`stack status` calls it too). */
export function placeCluster(stackRoot: string, runAs: OsUser | undefined): ClusterPlace {
  const known = decided.get(stackRoot);
  if (known) return known;
  const resolved = existsSync(stackRoot) ? realpathSync(stackRoot) : path.resolve(stackRoot);
  const link = path.join(resolved, "postgres");
  const pinned = pinnedTarget(link);
  const place = chooseClusterPlace({
    stackRoot: resolved,
    runAs,
    pinned,
    clusterInStack: !pinned && existsSync(path.join(link, "data", "PG_VERSION")),
    runAsReachesStack: () => runAs !== undefined && canTraverse(runAs, path.dirname(resolved)),
  });
  decided.set(stackRoot, place);
  return place;
}

/** Before initdb: a folder outside .stack/ is created for runAs and linked from .stack/postgres. */
export function prepareOutsidePlace(stackRoot: string, place: ClusterPlace, runAs: OsUser): void {
  const link = path.join(realpathSync(stackRoot), "postgres");
  if (!place.outsideBecause || pinnedTarget(link)) return;
  for (const dir of [path.dirname(place.root), place.root]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chownSync(dir, runAs.uid, runAs.gid);
  }
  rmSync(link, { recursive: true, force: true }); // what a failed earlier initdb left: a password file, no cluster
  symlinkSync(place.root, link);
}
