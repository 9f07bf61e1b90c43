/**
 * Which secrets the API may run without. The defaults (the public development webhook secret, open monitor and
 * reads) are only safe on a developer's machine: in production mode (ORDERFLOW_ENV or NODE_ENV), or whenever the API
 * listens on a non-loopback address, it refuses to start until each one is set, and says which.
 */
import { isIP } from "node:net";
import type { AppConfig } from "../../shared/config/config-schema.ts";
import { configSchema } from "../../shared/config/config-schema.ts";

export type SecretsConfig = Pick<AppConfig, "ORDERFLOW_ENV" | "API_HOST" | "PAYMENT_WEBHOOK_SECRET" | "MONITOR_TOKEN" | "ORDERS_READ_TOKEN" | "OPS_TOKEN">;

const DEV_WEBHOOK_SECRET: string = configSchema.properties.PAYMENT_WEBHOOK_SECRET.default;
/** Shorter tokens are guessable; 16 characters is also the webhook secret's schema minimum. */
const MIN_TOKEN_LENGTH = 16;

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return bare === "::1" || bare === "::ffff:127.0.0.1";
}

/** True when the development defaults must not be accepted. */
export function secretsRequired(config: SecretsConfig, env: NodeJS.ProcessEnv): boolean {
  return config.ORDERFLOW_ENV === "production" || env.NODE_ENV === "production" || !isLoopbackHost(config.API_HOST);
}

/** Each missing or public secret with what to do about it; empty when the API may start. */
export function missingSecrets(config: SecretsConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  // In any mode: the ops token exists so that holding the monitor token (dashboards, scrapers) cannot replay.
  const problems: string[] =
    config.OPS_TOKEN !== "" && config.OPS_TOKEN === config.MONITOR_TOKEN ? ["OPS_TOKEN equals MONITOR_TOKEN: give operations a token of their own"] : [];
  if (!secretsRequired(config, env)) return problems;
  if (config.PAYMENT_WEBHOOK_SECRET === DEV_WEBHOOK_SECRET) {
    problems.push("PAYMENT_WEBHOOK_SECRET is the public development value: set the secret shared with the payment provider");
  }
  for (const name of ["MONITOR_TOKEN", "ORDERS_READ_TOKEN", "OPS_TOKEN"] as const) {
    if (config[name].length < MIN_TOKEN_LENGTH)
      problems.push(
        `${name} is ${config[name] === "" ? "unset (the endpoints would be open)" : "too short"}: set a random token of ${MIN_TOKEN_LENGTH}+ characters`,
      );
  }
  return problems;
}

export class MissingSecretsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `the order API will not start with development secrets outside development on loopback (ORDERFLOW_ENV=production, NODE_ENV=production or a non-loopback API_HOST):\n  ${problems.join("\n  ")}`,
    );
    this.name = "MissingSecretsError";
  }
}

/** Throws MissingSecretsError naming every variable to set. */
export function assertSecrets(config: SecretsConfig, env: NodeJS.ProcessEnv = process.env): void {
  const problems = missingSecrets(config, env);
  if (problems.length > 0) throw new MissingSecretsError(problems);
}
