import { describe, expect, it } from "vitest";
import { workerDatabaseUrl } from "./worker-databases.ts";

describe("workerDatabaseUrl", () => {
  it("appends the worker to the database name and keeps the rest of the URL", () => {
    expect(workerDatabaseUrl("postgresql://u:p%40ss@127.0.0.1:5432/orderflow_test?sslmode=disable", 2)).toBe(
      "postgresql://u:p%40ss@127.0.0.1:5432/orderflow_test_w2?sslmode=disable",
    );
  });

  it("gives each worker a different database", () => {
    const base = "postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow_test";
    expect(new Set([1, 2, 3].map((worker) => workerDatabaseUrl(base, worker))).size).toBe(3);
  });
});
