import { describe, expect, it } from "vitest";
import { isLoopbackHost, missingSecrets, type SecretsConfig } from "./required-secrets.ts";

const devDefaults: SecretsConfig = {
  ORDERFLOW_ENV: "development",
  API_HOST: "127.0.0.1",
  PAYMENT_WEBHOOK_SECRET: "orderflow-dev-webhook-secret",
  MONITOR_TOKEN: "",
  ORDERS_READ_TOKEN: "",
  OPS_TOKEN: "",
};
const real = { PAYMENT_WEBHOOK_SECRET: "x".repeat(32), MONITOR_TOKEN: "m".repeat(32), ORDERS_READ_TOKEN: "r".repeat(32), OPS_TOKEN: "o".repeat(32) };

describe("required secrets", () => {
  it("tells loopback addresses from the others", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.5", "api.example.com"]) expect(isLoopbackHost(host), host).toBe(false);
  });

  it("accepts the defaults only in development on loopback", () => {
    expect(missingSecrets(devDefaults, {})).toEqual([]);
    expect(missingSecrets({ ...devDefaults, API_HOST: "0.0.0.0" }, {})).toHaveLength(4);
    expect(missingSecrets({ ...devDefaults, ORDERFLOW_ENV: "production" }, {})).toHaveLength(4);
    expect(missingSecrets(devDefaults, { NODE_ENV: "production" })).toHaveLength(4);
  });

  it("names each variable and refuses short tokens", () => {
    const problems = missingSecrets({ ...devDefaults, ORDERFLOW_ENV: "production", MONITOR_TOKEN: "short" }, {});
    expect(problems.join("\n")).toMatch(/PAYMENT_WEBHOOK_SECRET[\s\S]*MONITOR_TOKEN is too short[\s\S]*ORDERS_READ_TOKEN is unset[\s\S]*OPS_TOKEN is unset/);
    expect(missingSecrets({ ...devDefaults, ORDERFLOW_ENV: "production", ...real }, {})).toEqual([]);
  });

  it("refuses an ops token that is the monitor token, in development too", () => {
    expect(missingSecrets({ ...devDefaults, MONITOR_TOKEN: "same-token-0123456789", OPS_TOKEN: "same-token-0123456789" }, {})).toEqual([
      "OPS_TOKEN equals MONITOR_TOKEN: give operations a token of their own",
    ]);
  });
});
