import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { StackComponent } from "./component.ts";
import type { StackContext } from "./context.ts";
import { stackUp } from "./stack-manager.ts";

function quietContext(): StackContext {
  return {
    config: {} as StackContext["config"],
    paths: { repo: "/nowhere", root: "/nowhere/.stack", logs: "/nowhere/.stack/logs", run: "/nowhere/.stack/run" },
    signal: undefined,
    info: () => undefined,
    step: (_component, _what, work) => work(),
  };
}

/** A component whose install and start take the given times and record when they ran. */
function fake(name: string, timeline: string[], options: { installMs: number; startMs?: number; dependsOn?: string[]; failInstall?: boolean }) {
  let healthy = false;
  const component: StackComponent = {
    name,
    fixHint: "",
    dependsOn: options.dependsOn,
    async install(ctx) {
      timeline.push(`${name} install`);
      const until = Date.now() + options.installMs;
      while (Date.now() < until) {
        if (ctx.signal?.aborted) {
          timeline.push(`${name} aborted`);
          throw new Error(`${name} stopped`);
        }
        await sleep(10);
      }
      if (options.failInstall) throw new Error(`${name} install broke`);
      timeline.push(`${name} installed`);
    },
    isHealthy: async () => healthy,
    async start() {
      await sleep(options.startMs ?? 0);
      healthy = true;
      timeline.push(`${name} up`);
    },
    stop: async () => undefined,
    logFile: () => `/nowhere/${name}.log`,
    describe: () => name,
  };
  return component;
}

describe("stackUp", () => {
  it("runs every install at once and starts a component only when its dependencies are up", async () => {
    const timeline: string[] = [];
    const components = [
      fake("postgres", timeline, { installMs: 100, startMs: 100 }),
      fake("registry", timeline, { installMs: 10, dependsOn: ["postgres"] }),
      fake("jaeger", timeline, { installMs: 1_500 }),
    ];
    await stackUp(quietContext(), components);
    // All three began before any finished.
    expect(timeline.slice(0, 3)).toEqual(["postgres install", "registry install", "jaeger install"]);
    expect(timeline.indexOf("registry up")).toBeGreaterThan(timeline.indexOf("postgres up"));
    expect(timeline.indexOf("registry up")).toBeLessThan(timeline.indexOf("jaeger up")); // it did not wait for Jaeger
  });

  it("reports the first failure, naming its component, and stops the other installs", async () => {
    const timeline: string[] = [];
    const components = [fake("kafka", timeline, { installMs: 50, failInstall: true }), fake("jaeger", timeline, { installMs: 5_000 })];
    await expect(stackUp(quietContext(), components)).rejects.toThrow("[kafka] kafka install broke");
    await sleep(100);
    expect(timeline).toContain("jaeger aborted");
  });
});
