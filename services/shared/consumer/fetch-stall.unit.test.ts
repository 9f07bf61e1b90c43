import { describe, expect, it } from "vitest";
import { FetchStall } from "./fetch-stall.ts";

describe("FetchStall", () => {
  it("gives up only after `limit` fetch timeouts in a row", () => {
    const stall = new FetchStall(3);
    expect([stall.timedOut(), stall.timedOut(), stall.timedOut()]).toEqual([false, false, true]);
  });

  it("starts counting again after an answered fetch", () => {
    const stall = new FetchStall(3);
    stall.timedOut();
    stall.timedOut();
    stall.answered();
    expect([stall.timedOut(), stall.timedOut(), stall.timedOut()]).toEqual([false, false, true]);
  });
});
