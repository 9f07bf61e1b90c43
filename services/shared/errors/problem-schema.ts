/**
 * The JSON schema of an RFC 9457 problem as every Orderflow HTTP service sends it (problem-handler: code and
 * canRetry from the coded error), for the OpenAPI document: added once with addSchema, referenced by every route.
 */

/** RFC 9457 problem details as the API sends them (documented once, referenced by every route). */
export const problemSchema = {
  $id: "Problem",
  type: "object",
  required: ["type", "title", "status", "code", "canRetry"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    instance: { type: "string" },
    code: { type: "string" },
    canRetry: { type: "boolean" },
    errors: {
      type: "array",
      items: {
        type: "object",
        required: ["detail"],
        properties: { pointer: { type: "string" }, parameter: { type: "string" }, header: { type: "string" }, detail: { type: "string" } },
      },
    },
  },
} as const;

/** Problem responses for the OpenAPI document. */
export function problemResponses(...statuses: number[]): Record<number, unknown> {
  const responses: Record<number, unknown> = {};
  for (const status of statuses) {
    responses[status] = { description: "RFC 9457 problem details", content: { "application/problem+json": { schema: { $ref: "Problem#" } } } };
  }
  return responses;
}
