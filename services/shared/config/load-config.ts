import { Ajv, type ErrorObject } from "ajv";
import { configSchema, type AppConfig } from "./config-schema.ts";

/** Thrown at start when an environment variable is invalid; lists every bad variable at once. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}\n(see .env.example for every variable and its default)`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true });
const validate = ajv.compile(configSchema);

function describe(error: ErrorObject): string {
  const variable = error.instancePath.replace(/^\//, "") || String(error.params.missingProperty ?? "");
  return `${variable}: ${error.message ?? "invalid"}`;
}

/** Reads and validates the environment; empty strings count as unset so the default applies. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const candidate: Record<string, string> = {};
  for (const key of Object.keys(configSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== "") candidate[key] = value;
  }
  if (!validate(candidate)) throw new ConfigError((validate.errors ?? []).map(describe));
  return candidate as unknown as AppConfig;
}

/** The full topic name for a logical topic: tests and parallel environments set TOPIC_PREFIX so they never share data. */
export function topicName(config: Pick<AppConfig, "TOPIC_PREFIX">, logical: string): string {
  return `${config.TOPIC_PREFIX}${logical}`;
}
