/**
 * The API as a process refuses to start with the public development secrets (or none) when it is deployed:
 * ORDERFLOW_ENV=production, or listening on a non-loopback address. The message names each variable.
 * Locally (development mode on 127.0.0.1) the defaults still work.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../../test/support/order-api/order-api-harness.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const START_BOUND_MS = 45_000;

interface Outcome {
  exitCode: number | null;
  listening: boolean;
  output: string;
}

/** Runs main.ts until it exits or logs that it listens (then SIGTERM), bounded. */
async function startApi(env: Record<string, string>): Promise<Outcome> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join("services", "order-api", "main.ts")], {
    cwd: repo,
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, API_PORT: "0", LOG_LEVEL: "info", OTEL_SDK_DISABLED: "true", ORDERFLOW_ENV: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let listening = false;
  return new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), START_BOUND_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (!listening && output.includes("order API listening")) {
        listening = true;
        child.kill("SIGTERM");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, listening, output });
    });
  });
}

const REAL_SECRETS = {
  PAYMENT_WEBHOOK_SECRET: "a-real-webhook-secret-0123456789abcdef",
  MONITOR_TOKEN: "a-real-monitor-token-0123456789abcdef",
  ORDERS_READ_TOKEN: "a-real-read-token-0123456789abcdef",
  OPS_TOKEN: "a-real-ops-token-0123456789abcdef",
};

describe("secrets at start", () => {
  it.each([
    ["ORDERFLOW_ENV=production", { ORDERFLOW_ENV: "production" }],
    ["a non-loopback API_HOST", { API_HOST: "0.0.0.0" }],
    ["NODE_ENV=production", { NODE_ENV: "production" }],
  ])(
    "refuses to start with the development defaults under %s, naming each variable",
    async (_name, env) => {
      const outcome = await startApi({ PAYMENT_WEBHOOK_SECRET: "", MONITOR_TOKEN: "", ORDERS_READ_TOKEN: "", OPS_TOKEN: "", ...env });
      expect(outcome.listening).toBe(false);
      expect(outcome.exitCode).not.toBe(0);
      for (const variable of ["PAYMENT_WEBHOOK_SECRET", "MONITOR_TOKEN", "ORDERS_READ_TOKEN", "OPS_TOKEN"]) expect(outcome.output).toContain(variable);
    },
    START_BOUND_MS + 5_000,
  );

  it(
    "starts in production with real secrets",
    async () => {
      const outcome = await startApi({ ORDERFLOW_ENV: "production", ...REAL_SECRETS });
      expect(outcome.listening, outcome.output).toBe(true);
    },
    START_BOUND_MS + 5_000,
  );

  it(
    "starts locally with the defaults (development mode on 127.0.0.1)",
    async () => {
      const outcome = await startApi({ API_HOST: "127.0.0.1", NODE_ENV: "development" });
      expect(outcome.listening, outcome.output).toBe(true);
    },
    START_BOUND_MS + 5_000,
  );
});
