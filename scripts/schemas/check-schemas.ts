import type { AppConfig } from "../../services/shared/config/config-schema.ts";
import { topicName } from "../../services/shared/config/load-config.ts";
import { subjectOf, type EventSchema } from "../../services/shared/events/event-schemas.ts";
import { checkEventSchema, latestSchemaText, type CompatibilityVerdict, type RegistryEndpoint } from "../../services/shared/events/schema-registration.ts";
import { explainIncompatibility } from "./schema-diff.ts";

export interface SchemaCheckResult extends CompatibilityVerdict {
  eventType: string;
  /** Avro's explanation for a refusal (which field, which direction). */
  reasons: string[];
}

/** Asks the registry, for every schema file, whether it may become the next version of its subject. */
export async function checkSchemas(
  endpoint: RegistryEndpoint,
  config: Pick<AppConfig, "TOPIC_PREFIX">,
  schemas: readonly EventSchema[],
): Promise<SchemaCheckResult[]> {
  const results: SchemaCheckResult[] = [];
  for (const schema of schemas) {
    const fullTopic = topicName(config, schema.topic);
    const verdict = await checkEventSchema(endpoint, fullTopic, schema);
    let reasons: string[] = [];
    if (verdict.outcome === "incompatible") {
      const registered = await latestSchemaText(endpoint, subjectOf(fullTopic, schema));
      reasons = registered === undefined ? [] : explainIncompatibility(registered, schema.text);
      if (reasons.length === 0) reasons = verdict.messages.length > 0 ? verdict.messages : ["the registry refused it (no detail given)"];
    }
    results.push({ ...verdict, eventType: schema.eventType, reasons });
  }
  return results;
}

export function formatResult(result: SchemaCheckResult): string {
  const head = `${result.outcome.padEnd(12)} ${result.subject}`;
  return result.outcome === "incompatible" ? `${head}\n             ${result.reasons.join("\n             ")}` : head;
}
