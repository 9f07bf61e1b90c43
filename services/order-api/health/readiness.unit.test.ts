import { describe, expect, it } from "vitest";
import type { DependencyCheck } from "./dependency-checks.ts";
import { checkReadiness } from "./readiness.ts";

function check(name: string, required: boolean, probe: DependencyCheck["probe"]): DependencyCheck {
  return { name, componentType: "component", required, probe };
}

const ok = check("database:responseTime", true, async () => undefined);
const down = (required: boolean) =>
  check(required ? "database:responseTime" : "kafka:connectivity", required, async () =>
    Promise.reject(Object.assign(new Error("secret host"), { code: "ECONNREFUSED" })),
  );
const hangs = check(
  "registry:connectivity",
  false,
  (signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))),
);

describe("checkReadiness", () => {
  it("passes when every check passes", async () => {
    expect(await checkReadiness("svc", [ok], 100)).toMatchObject({
      status: "pass",
      checks: { "database:responseTime": [{ status: "pass", observedUnit: "ms" }] },
    });
  });

  it("only warns for optional dependencies, fails for required ones, and never leaks messages", async () => {
    const warn = await checkReadiness("svc", [ok, down(false)], 100);
    expect(warn.status).toBe("warn");
    expect(warn.checks["kafka:connectivity"]?.[0]).toMatchObject({ status: "warn", output: "ECONNREFUSED" });
    const fail = await checkReadiness("svc", [down(true)], 100);
    expect(fail.status).toBe("fail");
    expect(JSON.stringify(fail)).not.toContain("secret host");
  });

  it("bounds a hanging check by the timeout and aborts it", async () => {
    const startedAt = Date.now();
    const report = await checkReadiness("svc", [ok, hangs], 50);
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(report.checks["registry:connectivity"]?.[0]).toMatchObject({ status: "warn", output: "no answer within 50 ms" });
  });
});
