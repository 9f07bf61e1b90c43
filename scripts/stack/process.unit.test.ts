import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { isAlive } from "./process.ts";

describe("isAlive", () => {
  it("is true for a running process and false once it exited, even before its parent reaped it", async () => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    const pid = child.pid!;
    expect(isAlive(pid)).toBe(true);
    // Block the event loop right after the kill so Node cannot reap the child: it stays a zombie meanwhile.
    child.kill("SIGKILL");
    const until = Date.now() + 300;
    while (Date.now() < until) {
      /* busy-wait: no reaping while we are here */
    }
    expect(isAlive(pid)).toBe(false);
    await once(child, "exit");
    expect(isAlive(pid)).toBe(false);
  });
});
