// `npm run schemas:check`: is every schemas/*.avsc compatible (FULL: BACKWARD + FORWARD) with what the registry
// holds for its subject? Exits 1 naming each incompatible schema and why; 2 when the check itself could not run.
import { loadConfig } from "../../services/shared/config/load-config.ts";
import { DEFAULT_SCHEMAS_DIR, loadEventSchemas } from "../../services/shared/events/event-schemas.ts";
import { checkSchemas, formatResult } from "./check-schemas.ts";

async function main(): Promise<number> {
  const config = loadConfig();
  const dir = process.argv[2] ?? DEFAULT_SCHEMAS_DIR;
  const results = await checkSchemas({ url: config.SCHEMA_REGISTRY_URL }, config, loadEventSchemas(dir));
  for (const result of results) console.log(formatResult(result));
  const refused = results.filter((result) => result.outcome === "incompatible");
  if (refused.length > 0) {
    console.error(`\n${refused.length} schema(s) incompatible with the registry: ${refused.map((r) => r.file).join(", ")}`);
    return 1;
  }
  console.log(`\n${results.length} schema(s) compatible with ${config.SCHEMA_REGISTRY_URL}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`schemas:check could not run: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
