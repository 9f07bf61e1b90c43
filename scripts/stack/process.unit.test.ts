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

describe("assertPortFree", () => {
  it("names the port and the variable that moves it when something else listens there", async () => {
    const { createServer } = await import("node:net");
    const { assertPortFree } = await import("./process.ts");
    const server = createServer().listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as { port: number }).port;
    try {
      await expect(assertPortFree("kafka", "127.0.0.1", port, "KAFKA_PORT")).rejects.toThrow(
        new RegExp(`\\[kafka\\] port 127\\.0\\.0\\.1:${port} is already in use`),
      );
      const error = (await assertPortFree("kafka", "127.0.0.1", port, "KAFKA_PORT").catch((e: unknown) => e)) as { hint?: string };
      expect(error.hint).toContain("KAFKA_PORT=");
    } finally {
      server.close();
    }
    await once(server, "close");
    await expect(assertPortFree("kafka", "127.0.0.1", port, "KAFKA_PORT")).resolves.toBeUndefined();
  });
});

describe("freePort", () => {
  it("gives a port below the OS's ephemeral range, so a service binding port 0 is never handed the same one", async () => {
    const { readFileSync } = await import("node:fs");
    const { createServer } = await import("node:net");
    const { freePort } = await import("./process.ts");
    const ephemeralLow = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) expect(port).toBeLessThan(ephemeralLow);
    const server = createServer().listen(ports[0], "127.0.0.1");
    await once(server, "listening"); // and it is free
    server.close();
  });
});
