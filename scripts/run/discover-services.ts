import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

/** Services are the folders under services/ with a main.ts (services/shared is code, not a service). */
export function discoverServices(repo: string): string[] {
  const dir = path.join(repo, "services");
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== "shared" && existsSync(path.join(dir, entry.name, "main.ts")))
    .map((entry) => entry.name)
    .sort();
}
