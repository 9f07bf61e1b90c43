import type { FastifyInstance } from "fastify";
import type { DependencyCheck } from "../health/dependency-checks.ts";
import { checkReadiness } from "../health/readiness.ts";

export const HEALTH_CONTENT_TYPE = "application/health+json";

export interface HealthRouteOptions {
  serviceId: string;
  checks: readonly DependencyCheck[];
  checkTimeoutMs: number;
  /** True once shutdown began: the load balancer must stop sending new requests. */
  isClosing: () => boolean;
}

const healthResponse = {
  description: "Health (application/health+json, draft-inadarei-api-health-check)",
  type: "object",
  additionalProperties: true,
} as const;

/** /livez: the process answers (no dependency checks, so a database outage never restarts it). /readyz: per dependency. */
export function registerHealthRoutes(app: FastifyInstance, options: HealthRouteOptions): void {
  app.get("/livez", { schema: { tags: ["health"], response: { 200: healthResponse } } }, async (_request, reply) => {
    return reply.type(HEALTH_CONTENT_TYPE).send(JSON.stringify({ status: "pass", serviceId: options.serviceId }));
  });

  app.get("/readyz", { schema: { tags: ["health"], response: { 200: healthResponse, 503: healthResponse } } }, async (_request, reply) => {
    const report = await checkReadiness(options.serviceId, options.checks, options.checkTimeoutMs);
    if (options.isClosing()) {
      report.status = "fail";
      report.description += " (shutting down)";
    }
    return reply
      .code(report.status === "fail" ? 503 : 200)
      .type(HEALTH_CONTENT_TYPE)
      .header("cache-control", "no-store")
      .send(JSON.stringify(report));
  });
}
