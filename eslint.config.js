import tseslint from "typescript-eslint";

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
);
