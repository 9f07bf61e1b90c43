import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configSchema } from "./config-schema.ts";
import { loadConfig } from "./load-config.ts";
import { stackVariables } from "../../../scripts/stack/stack-config.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function exampleEntries(): Map<string, string> {
  const text = readFileSync(path.join(repo, ".env.example"), "utf8");
  const entries = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1]) entries.set(match[1], match[2] ?? "");
  }
  return entries;
}

describe(".env.example", () => {
  it("documents every variable the services and the stack read", () => {
    const documented = exampleEntries();
    const missing = [...Object.keys(configSchema.properties), ...Object.keys(stackVariables)].filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
  });

  it("shows the same defaults the code uses", () => {
    const documented = exampleEntries();
    const defaults = { ...loadConfig({}), ...stackVariables };
    const differing = Object.entries(defaults)
      .filter(([name, value]) => documented.has(name) && documented.get(name) !== String(value))
      .map(([name, value]) => `${name}: code ${String(value)} vs .env.example ${documented.get(name)}`);
    expect(differing).toEqual([]);
  });
});
