import { afterEach, describe, expect, it, vi } from "vitest";
import { RunCoalescer } from "./run-coalescer.ts";

/** A fake transaction: records each call's items, fails when one of them is "poison". */
function recordingApply(calls: string[][]) {
  return async (items: readonly string[]): Promise<string[]> => {
    calls.push([...items]);
    await Promise.resolve();
    if (items.includes("poison")) throw new Error("transaction failed");
    return items.map((item) => `done:${item}`);
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("RunCoalescer", () => {
  it("applies runs that are ready together in one transaction, each run's records together and in order", async () => {
    const calls: string[][] = [];
    const coalescer = new RunCoalescer(recordingApply(calls), { lingerMs: 1_000, maxRecords: 100 });
    const [a, b] = [coalescer.enter(), coalescer.enter()];
    const first = a.submit(["a1", "a2"]);
    const second = b.submit(["b1"]);
    expect(await first).toEqual(["done:a1", "done:a2"]);
    expect(await second).toEqual(["done:b1"]);
    expect(calls).toEqual([["a1", "a2", "b1"]]);
  });

  it("a failed shared transaction is retried run by run: only the run that fails alone gets the error", async () => {
    const calls: string[][] = [];
    const coalescer = new RunCoalescer(recordingApply(calls), { lingerMs: 1_000, maxRecords: 100 });
    const [a, b, c] = [coalescer.enter(), coalescer.enter(), coalescer.enter()];
    const results = Promise.allSettled([a.submit(["a1"]), b.submit(["b1", "poison"]), c.submit(["c1"])]);
    const [ra, rb, rc] = await results;
    expect(ra).toEqual({ status: "fulfilled", value: ["done:a1"] });
    expect(rb).toMatchObject({ status: "rejected", reason: new Error("transaction failed") });
    expect(rc).toEqual({ status: "fulfilled", value: ["done:c1"] });
    expect(calls).toEqual([["a1", "b1", "poison", "c1"], ["a1"], ["b1", "poison"], ["c1"]]);
  });

  it("runs that become ready while a transaction is in flight share the next one", async () => {
    const calls: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const coalescer = new RunCoalescer(
      async (items: readonly string[]) => {
        calls.push([...items]);
        if (calls.length === 1) await gate;
        return items.map((item) => `done:${item}`);
      },
      { lingerMs: 1_000, maxRecords: 100 },
    );
    const first = coalescer.enter().submit(["a1"]);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    const later = [coalescer.enter().submit(["b1"]), coalescer.enter().submit(["c1"])];
    release();
    await first;
    await Promise.all(later);
    expect(calls).toEqual([["a1"], ["b1", "c1"]]);
  });

  it("a ready run waits for a run still being prepared at most lingerMs, then goes without it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const calls: string[][] = [];
    const coalescer = new RunCoalescer(recordingApply(calls), { lingerMs: 50, maxRecords: 100 });
    const slow = coalescer.enter();
    const ready = coalescer.enter().submit(["a1"]);
    await vi.advanceTimersByTimeAsync(49);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await ready).toEqual(["done:a1"]);
    slow.leave();
    slow.leave(); // idempotent: the count of runs being prepared must not go negative
    const next = coalescer.enter().submit(["b1"]);
    expect(await next).toEqual(["done:b1"]);
    expect(calls).toEqual([["a1"], ["b1"]]);
  });

  it("never puts more than maxRecords in one transaction, but a larger run still goes (alone)", async () => {
    const calls: string[][] = [];
    const coalescer = new RunCoalescer(recordingApply(calls), { lingerMs: 1_000, maxRecords: 3 });
    const tickets = [coalescer.enter(), coalescer.enter(), coalescer.enter()];
    await Promise.all([tickets[0]!.submit(["a1", "a2", "a3", "a4"]), tickets[1]!.submit(["b1", "b2"]), tickets[2]!.submit(["c1"])]);
    expect(calls).toEqual([
      ["a1", "a2", "a3", "a4"],
      ["b1", "b2", "c1"],
    ]);
  });
});
