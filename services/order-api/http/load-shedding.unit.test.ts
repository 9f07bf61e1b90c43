import { describe, expect, it } from "vitest";
import { PoolAdmission } from "./load-shedding.ts";

describe("pool admission", () => {
  it("sheds only when the waiting requests would wait longer than the budget at the pool's recent pace", () => {
    const pool = { waitingCount: 0 };
    const admission = new PoolAdmission(pool, { poolSize: 5, queueWaitBudgetMs: 1000, maxWaiting: 0 });
    for (let i = 0; i < 200; i++) admission.observe(50);
    pool.waitingCount = 4; // shorter than the pool: served within one round
    expect(admission.shouldShed()).toBe(false);
    pool.waitingCount = 95; // 95 x 50 ms / 5 = 950 ms
    expect(admission.shouldShed()).toBe(false);
    pool.waitingCount = 120; // 1200 ms
    expect(admission.shouldShed()).toBe(true);
    for (let i = 0; i < 200; i++) admission.observe(10); // the database got faster: 240 ms
    expect(admission.shouldShed()).toBe(false);
    expect(new PoolAdmission({ waitingCount: 10_000 }, { poolSize: 5, queueWaitBudgetMs: 0, maxWaiting: 0 }).shouldShed()).toBe(false);
  });

  it("sheds a burst past the cap before any pace is known", () => {
    const pool = { waitingCount: 199 };
    const admission = new PoolAdmission(pool, { poolSize: 5, queueWaitBudgetMs: 2000, maxWaiting: 200 });
    expect(admission.shouldShed()).toBe(false);
    pool.waitingCount = 200;
    expect(admission.shouldShed()).toBe(true);
  });
});
