import path from "node:path";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
// The project's own eslint.config.js, so what is tested is what `npm test` enforces.
const eslint = new ESLint({ cwd: repo });

/** Lints one small fixture as if it were the file at `file`, returning the boundary rule's message ids. */
async function boundaryFindings(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repo, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "orderflow/import-boundaries").map((m) => m.message);
}

describe("import boundaries (eslint)", () => {
  // Loading the config and parser once takes seconds (tens on a busy machine); the fixtures then take milliseconds.
  beforeAll(() => eslint.lintText("export {};", { filePath: path.join(repo, "services/shared/warm-up.ts") }), 120_000);

  it("fails a service importing another service's internals, by static, dynamic and re-export imports", async () => {
    const findings = await boundaryFindings(
      "services/order-api/routes/fixture.ts",
      [
        `import { a } from "../../payment/callbacks/receive-callback.ts";`,
        `export * from "../../inventory/inventory-consumer.ts";`,
        `export const b = () => import("../../notification/main.ts");`,
        `export { a };`,
      ].join("\n"),
    );
    expect(findings).toHaveLength(3);
    expect(findings[0]).toMatch(/services\/order-api must not import services\/payment\/callbacks\/receive-callback\.ts/);
  });

  it("lets a service import another service only through that service's public.ts", async () => {
    expect(await boundaryFindings("services/order-api/fixture.ts", `export { paymentWebhookPlugin } from "../payment/public.ts";`)).toEqual([]);
    const internals = [
      `export { a } from "../payment/webhook/webhook-plugin.ts";`,
      `export { b } from "../payment/main.ts";`,
      `export { c } from "../payment/callbacks/public.ts";`,
    ].join("\n");
    const findings = await boundaryFindings("services/order-api/fixture.ts", internals);
    expect(findings).toHaveLength(3);
    expect(findings[0]).toMatch(/reached only through its public entry services\/payment\/public\.ts/);
  });

  it("fails services/shared importing a service, its public entry included", async () => {
    const code = [`export { x } from "../order-api/app.ts";`, `export { y } from "../payment/public.ts";`].join("\n");
    const findings = await boundaryFindings("services/shared/fixture.ts", code);
    expect(findings).toHaveLength(2);
    expect(findings.every((m) => m.includes("services/shared must not import"))).toBe(true);
  });

  it("lets a service import services/shared and its own folder", async () => {
    const code = [`export { loadConfig } from "../../shared/config/load-config.ts";`, `export { y } from "../health/dependency-checks.ts";`].join("\n");
    expect(await boundaryFindings("services/order-api/routes/fixture.ts", code)).toEqual([]);
  });

  it("fails production code importing test support or scripts/", async () => {
    const code = [
      `export { a } from "../../test/support/order-fixtures.ts";`,
      `export { b } from "./test-support/tcp-proxy.ts";`,
      `export { c } from "../outbox-relay/test-support/relay-test-kit.ts";`,
      `export { d } from "../../scripts/stack/process.ts";`,
    ].join("\n");
    const findings = await boundaryFindings("services/order-api/fixture.ts", code);
    expect(findings).toHaveLength(4);
    expect(findings[0]).toMatch(/must not import test support/);
    expect(findings.slice(1, 3).every((m) => m.includes("test support has one home, test/support/"))).toBe(true);
    expect(findings[3]).toMatch(/must not import scripts\/stack\/process\.ts/);
  });

  it("lets tests import test/support, and no one a test-support folder elsewhere, nor another service's production code", async () => {
    expect(await boundaryFindings("services/inventory/fixture.int.test.ts", `export { a } from "../../test/support/consumer/consumer-test-kit.ts";`)).toEqual(
      [],
    );
    const stray = await boundaryFindings("services/inventory/fixture.int.test.ts", `export { c } from "../outbox-relay/test-support/relay-test-kit.ts";`);
    expect(stray).toHaveLength(1);
    expect(stray[0]).toMatch(/test support has one home/);
    expect(await boundaryFindings("services/inventory/fixture.unit.test.ts", `export { x } from "../order-api/app.ts";`)).toHaveLength(1);
  });

  it("is an error everywhere under services/ (no file is let off with a warning)", async () => {
    const [result] = await eslint.lintText(`export { a } from "../../payment/callbacks/receive-callback.ts";`, {
      filePath: path.join(repo, "services/order-api/routes/payment-webhook.ts"),
    });
    const findings = (result?.messages ?? []).filter((m) => m.ruleId === "orderflow/import-boundaries");
    expect(findings.map((m) => m.severity)).toEqual([2]);
  });
});
