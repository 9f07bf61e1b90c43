import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import avro from "avsc";
import { beforeAll, describe, expect, it } from "vitest";
import { createSchemaRegistry } from "../../services/shared/avro/schema-registry.ts";
import { DEFAULT_SCHEMAS_DIR, loadEventSchemas } from "../../services/shared/events/event-schemas.ts";
import { registerEventSchema, registerEventSchemas } from "../../services/shared/events/schema-registration.ts";
import { checkSchemas } from "./check-schemas.ts";

const registryUrl = process.env.SCHEMA_REGISTRY_URL || "http://127.0.0.1:8081/apis/ccompat/v7";
const config = { TOPIC_PREFIX: `test.schemas-${Math.random().toString(36).slice(2, 8)}.` };
const endpoint = { url: registryUrl };
const repo = path.resolve(DEFAULT_SCHEMAS_DIR, "..");

/** A copy of schemas/ with OrderPlaced.avsc's fields changed by `edit`. */
function schemasWithOrderPlaced(edit: (fields: Array<Record<string, unknown>>) => Array<Record<string, unknown>>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "schemas-evolution-"));
  cpSync(DEFAULT_SCHEMAS_DIR, dir, { recursive: true });
  const file = path.join(dir, "OrderPlaced.avsc");
  const schema = JSON.parse(readFileSync(file, "utf8")) as { fields: Array<Record<string, unknown>> };
  schema.fields = edit(schema.fields);
  writeFileSync(file, JSON.stringify(schema, null, 2));
  return dir;
}

const payload = {
  event_id: "8a0a7a5e-5b8e-4d7e-9d8e-0c2a1f1f0001",
  order_id: "8a0a7a5e-5b8e-4d7e-9d8e-0c2a1f1f0002",
  occurred_at: 1_764_000_000_000,
  customer_id: "c-1",
  currency: "EUR",
  total_minor: 2_500,
  items: [{ sku: "SKU-1", quantity: 2, unit_price_minor: 1_250 }],
  shipping_address: null,
};

describe("schema evolution against the registry", () => {
  beforeAll(async () => {
    await registerEventSchemas(endpoint, createSchemaRegistry(registryUrl), config, loadEventSchemas());
  });

  it("accepts adding an optional field with a default, and old readers still decode new records", async () => {
    const dir = schemasWithOrderPlaced((fields) => [...fields, { name: "gift_message", type: ["null", "string"], default: null }]);
    const evolved = loadEventSchemas(dir);
    const results = await checkSchemas(endpoint, config, evolved);
    expect(results.filter((r) => r.outcome === "incompatible")).toEqual([]);

    const placed = evolved.find((s) => s.eventType === "OrderPlaced")!;
    const { id } = await registerEventSchema(endpoint, `${config.TOPIC_PREFIX}orders`, placed);
    const registry = createSchemaRegistry(registryUrl);
    const record = await registry.encode(id, { ...payload, gift_message: "happy birthday" });

    const oldType = avro.Type.forSchema(loadEventSchemas().find((s) => s.eventType === "OrderPlaced")!.schema as avro.Schema);
    const newType = avro.Type.forSchema(placed.schema as avro.Schema);
    const oldReader = oldType.createResolver(newType);
    expect({ ...oldType.fromBuffer(record.subarray(5), oldReader) }).toEqual(payload);
    expect(await registry.decode(record)).toMatchObject({ ...payload, gift_message: "happy birthday" });
  });

  it("refuses removing a required field, naming the schema and the field", async () => {
    const dir = schemasWithOrderPlaced((fields) => fields.filter((field) => field.name !== "customer_id"));
    const results = await checkSchemas(endpoint, config, loadEventSchemas(dir));
    const refused = results.filter((r) => r.outcome === "incompatible");
    expect(refused.map((r) => r.eventType)).toEqual(["OrderPlaced"]);
    expect(refused[0]!.reasons.join(" ")).toContain("customer_id");

    const cli = spawnSync(path.join(repo, "node_modules", ".bin", "tsx"), ["scripts/schemas/check.ts", dir], {
      cwd: repo,
      env: { ...process.env, TOPIC_PREFIX: config.TOPIC_PREFIX, SCHEMA_REGISTRY_URL: registryUrl },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(cli.status).toBe(1);
    expect(cli.stdout + cli.stderr).toContain("OrderPlaced.avsc");
    expect(cli.stdout).toContain("customer_id");
  });
});
