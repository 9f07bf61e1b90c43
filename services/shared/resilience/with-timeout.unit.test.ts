import { describe, expect, it } from "vitest";
import { withTimeout } from "./with-timeout.ts";

describe("withTimeout", () => {
  it("passes the work's result and error through when it finishes in time", async () => {
    await expect(withTimeout(Promise.resolve(42), 1000, () => new Error("late"))).resolves.toBe(42);
    await expect(withTimeout(Promise.reject(new Error("boom")), 1000, () => new Error("late"))).rejects.toThrow("boom");
  });

  it("rejects with the caller's error when the work takes longer", async () => {
    const never = new Promise<number>(() => undefined);
    await expect(withTimeout(never, 20, () => new RangeError("took too long"))).rejects.toThrow(RangeError);
  });
});
