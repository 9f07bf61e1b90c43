import tseslint from "typescript-eslint";
import { importBoundaries } from "./scripts/lint/import-boundaries.mjs";

export default tseslint.config(
  { ignores: ["node_modules/**", ".stack/**", "dist/**", "services/shared/db/generated/**", "test-artifacts/**", "bench-results/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      // kafkajs is unmaintained: only services/shared/kafka may import it, so a compatible client can replace it there.
      "no-restricted-imports": ["error", { paths: [{ name: "kafkajs", message: "import from services/shared/kafka instead" }] }],
    },
  },
  { files: ["services/shared/kafka/**"], rules: { "no-restricted-imports": "off" } },
  {
    // Boundaries of docs/design.md: services import services/shared, their own folder and another service only
    // through its public.ts; production code never imports test support or scripts/ (scripts/lint/import-boundaries.mjs
    // says exactly what counts).
    files: ["services/**"],
    plugins: { orderflow: { rules: { "import-boundaries": importBoundaries } } },
    rules: { "orderflow/import-boundaries": "error" },
  },
);
