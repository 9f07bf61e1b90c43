/**
 * The supervisor's restart policy, on real child processes of a throw-away repository (one service that exits
 * after EXIT_AFTER_MS): an instance that keeps failing at once is given up after its restarts in a row, and one that
 * ran healthy before it exited starts the count afresh, however often that happens over its life.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ServiceSupervisor } from "./service-supervisor.ts";

const repo = mkdtempSync(path.join(os.tmpdir(), "supervisor-"));
mkdirSync(path.join(repo, "services", "flaky"), { recursive: true });
mkdirSync(path.join(repo, "schemas")); // dist/ links to it, as in the real repository
writeFileSync(path.join(repo, "services", "flaky", "main.ts"), `setTimeout(() => process.exit(3), Number(process.env.EXIT_AFTER_MS));\n`);
afterAll(() => rmSync(repo, { recursive: true, force: true }));

/** Runs the flaky service until the supervisor gives up or `untilStarts` instances were started; the count. */
async function startsUntil(exitAfterMs: number, untilStarts: number, healthyAfterMs: number): Promise<{ starts: number; gaveUp: boolean }> {
  let starts = 0;
  let gaveUp = false;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const supervisor = new ServiceSupervisor(
    repo,
    { ...process.env, EXIT_AFTER_MS: String(exitAfterMs) },
    {
      healthyAfterMs,
      restartDelayMs: () => 10,
      onLine: (_label, line) => {
        if (line.includes("restarting in")) starts += 1;
        if (line.includes("not restarting")) gaveUp = true;
        if (gaveUp || starts + 1 >= untilStarts) done();
      },
    },
  );
  supervisor.start([{ name: "flaky", instances: 1 }]);
  const bound = setTimeout(done, 20_000);
  await finished;
  clearTimeout(bound);
  await supervisor.stop(2_000);
  return { starts: starts + 1, gaveUp };
}

describe("ServiceSupervisor restarts", () => {
  it("gives up on an instance that fails at once, after five restarts in a row", async () => {
    expect(await startsUntil(0, 100, 60_000)).toEqual({ starts: 6, gaveUp: true });
  }, 30_000);

  it("keeps restarting an instance that ran healthy before each exit", async () => {
    expect(await startsUntil(300, 9, 200)).toEqual({ starts: 9, gaveUp: false });
  }, 30_000);
});
