import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ensureArtefact, isComplete, linkTo, type Artefact } from "./artefact-cache.mjs";

/** A cache entry whose build writes one file after `delayMs`, counting its builds. */
function fakeArtefact(dir: string, options: { delayMs?: number; fail?: boolean } = {}) {
  const counter = { builds: 0 };
  const artefact = {
    component: "fake",
    what: "building the fake",
    dir,
    logFile: path.join(path.dirname(dir), "fake.log"),
    async build(staging: string) {
      counter.builds += 1;
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 50));
      if (options.fail) throw new Error("the build broke");
      writeFileSync(path.join(staging, "payload"), "built");
    },
  };
  return { artefact: artefact as Artefact, counter };
}

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), "orderflow-cache-"));

describe("ensureArtefact", () => {
  it("builds a missing entry once, even when two callers ask at the same time, and reuses it afterwards", async () => {
    const { artefact, counter } = fakeArtefact(path.join(tempDir(), "entry"), { delayMs: 300 });
    const waits: number[] = [];
    const [a, b] = await Promise.all([ensureArtefact(artefact), ensureArtefact(artefact, { onWait: (pid) => waits.push(pid) })]);
    expect(a).toBe(artefact.dir);
    expect(b).toBe(artefact.dir);
    expect(counter.builds).toBe(1);
    expect(waits).toEqual([process.pid]); // the second caller was told who builds
    expect(readFileSync(path.join(artefact.dir, "payload"), "utf8")).toBe("built");
    await ensureArtefact(artefact);
    expect(counter.builds).toBe(1);
  });

  it("leaves nothing that looks installed when the build fails, and releases the lock for the next try", async () => {
    const root = tempDir();
    const failing = fakeArtefact(path.join(root, "entry"), { fail: true });
    await expect(ensureArtefact(failing.artefact)).rejects.toThrow("the build broke");
    expect(isComplete(failing.artefact)).toBe(false);
    expect(readdirSync(root).filter((f) => f.startsWith("entry"))).toEqual([]); // no entry, no .partial, no .lock
    const working = fakeArtefact(path.join(root, "entry"));
    await ensureArtefact(working.artefact);
    expect(isComplete(working.artefact)).toBe(true);
  });

  it("takes over the lock of a builder that died", async () => {
    const { artefact, counter } = fakeArtefact(path.join(tempDir(), "entry"));
    const dead = spawn("true");
    await once(dead, "exit");
    mkdirSync(`${artefact.dir}.lock`);
    writeFileSync(path.join(`${artefact.dir}.lock`, "pid"), String(dead.pid));
    await ensureArtefact(artefact, { timeoutMs: 10_000 });
    expect(counter.builds).toBe(1);
  });
});

describe("linkTo", () => {
  it("replaces an older layout's real folder with a link, and reports whether anything changed", () => {
    const root = tempDir();
    const target = path.join(root, "cache-entry");
    mkdirSync(target);
    const link = path.join(root, "stack", "libs");
    mkdirSync(link, { recursive: true });
    writeFileSync(path.join(link, "old.jar"), "");
    expect(linkTo(link, target)).toBe(true);
    expect(existsSync(path.join(link, "old.jar"))).toBe(false);
    expect(linkTo(link, target)).toBe(false);
  });
});
