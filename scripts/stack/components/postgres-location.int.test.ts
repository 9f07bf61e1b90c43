import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { osUser, placeCluster, prepareOutsidePlace } from "./postgres-location.ts";

// As root the cluster runs as the postgres OS user (initdb refuses root); as anybody else it is our own.
const runAs = process.getuid?.() === 0 ? osUser("postgres") : undefined;
const created: string[] = [];

function cloneUnder(parentMode: number): string {
  const parent = mkdtempSync(path.join(os.tmpdir(), "orderflow-clone-parent-"));
  created.push(parent);
  chmodSync(parent, parentMode);
  const stackRoot = path.join(parent, "of", ".stack");
  mkdirSync(stackRoot, { recursive: true });
  return stackRoot;
}

afterAll(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

describe("placeCluster on this machine", () => {
  it("gives the cluster a folder its OS user can write to when the clone's parent is mode 0700", () => {
    const stackRoot = cloneUnder(0o700);
    const place = placeCluster(stackRoot, runAs);
    if (!runAs) {
      expect(place.root).toBe(path.join(realpathSync(stackRoot), "postgres"));
      return;
    }
    expect(place.outsideBecause).toContain(`cannot reach ${realpathSync(path.dirname(stackRoot))}`);
    prepareOutsidePlace(stackRoot, place, runAs);
    created.push(place.root);
    expect(spawnSync("runuser", ["-u", runAs.name, "--", "test", "-w", place.root]).status).toBe(0);
    expect(realpathSync(path.join(stackRoot, "postgres"))).toBe(place.root); // found from the clone
  });

  it("keeps the cluster in .stack/postgres when the clone's folders are open to others", () => {
    const stackRoot = cloneUnder(0o755);
    expect(placeCluster(stackRoot, runAs)).toEqual({ root: path.join(realpathSync(stackRoot), "postgres"), outsideBecause: undefined });
  });
});
