// `npm run schemas:register`: registers every schemas/*.avsc under `<topic>-<record full name>` (FULL compatibility).
// The relay does the same at start; this is the deploy-time step.
import { createSchemaRegistry } from "../../services/shared/avro/schema-registry.ts";
import { loadConfig } from "../../services/shared/config/load-config.ts";
import { DEFAULT_SCHEMAS_DIR, loadEventSchemas } from "../../services/shared/events/event-schemas.ts";
import { registerEventSchemas } from "../../services/shared/events/schema-registration.ts";

async function main(): Promise<void> {
  const config = loadConfig();
  const schemas = loadEventSchemas(process.argv[2] ?? DEFAULT_SCHEMAS_DIR);
  const registered = await registerEventSchemas({ url: config.SCHEMA_REGISTRY_URL }, createSchemaRegistry(config.SCHEMA_REGISTRY_URL), config, schemas);
  for (const { subject, id } of registered.values()) console.log(`registered ${subject} (id ${id})`);
}

main().catch((error: unknown) => {
  console.error(`schemas:register failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
