import type { FieldProblem } from "../../shared/errors/coded-error.ts";

/** The subset of Ajv's ErrorObject we read (Fastify's FastifySchemaValidationError has the same members). */
export interface SchemaViolation {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

function escapePointerToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/**
 * Ajv errors as RFC 6901 pointers into the body ("" is the whole body), or as parameter names for the query
 * string and path: "required" and "additionalProperties" point at the missing or extra member itself, which is
 * where the client has to look.
 */
export function toFieldProblems(violations: readonly SchemaViolation[], part: "body" | "parameter" = "body"): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const violation of violations) {
    let pointer = violation.instancePath;
    let detail = violation.message ?? "is invalid";
    const { missingProperty, additionalProperty } = violation.params;
    if (violation.keyword === "required" && typeof missingProperty === "string") {
      pointer += `/${escapePointerToken(missingProperty)}`;
      detail = "is required";
    } else if (violation.keyword === "additionalProperties" && typeof additionalProperty === "string") {
      pointer += `/${escapePointerToken(additionalProperty)}`;
      detail = "is not an allowed property";
    } else if (violation.keyword === "enum" && Array.isArray(violation.params.allowedValues)) {
      detail = `must be one of ${violation.params.allowedValues.map(String).join(", ")}`;
    }
    const key = `${pointer}\u0000${detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(part === "body" ? { pointer, detail } : { parameter: pointer.replace(/^\//, "").replace(/\//g, ".") || "(all)", detail });
  }
  return problems;
}
