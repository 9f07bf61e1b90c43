import { describe, expect, it } from "vitest";
import { backgroundRefresh } from "./gauge-refresh.ts";

describe("background gauge refresh", () => {
  it("starts at most one refresh per period, never two at once, and never makes the caller wait", async () => {
    let now = 0;
    let started = 0;
    let finish: () => void = () => undefined;
    const trigger = backgroundRefresh(
      () => {
        started += 1;
        return new Promise<void>((resolve) => (finish = resolve));
      },
      10_000,
      () => undefined,
      () => now,
    );
    trigger();
    trigger();
    expect(started).toBe(1);
    now = 20_000;
    trigger(); // still running: no second refresh
    expect(started).toBe(1);
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    trigger();
    expect(started).toBe(2);
    now = 25_000;
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    trigger(); // within the period of the last start
    expect(started).toBe(2);
  });
});
