/**
 * Cross-cutting HTTP behaviour of the whole API, registered before any route: validation, problem+json errors, the
 * shutdown guard, rate limits, load shedding and the traceparent header. It applies to the root instance
 * (fastify-plugin), since a hook added inside an encapsulated scope would not see the other plugins' routes.
 */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { AppConfig } from "../../shared/config/config-schema.ts";
import { ServiceUnavailableError } from "../../shared/errors/http-errors.ts";
import { currentTraceparent } from "../../shared/telemetry/trace-context.ts";
import { registerLoadShedding, type PoolAdmission } from "../http/load-shedding.ts";
import { registerProblemHandling, sendProblem } from "../http/problem-handler.ts";
import { registerRateLimits } from "../http/rate-limits.ts";
import { createValidatorCompiler } from "../http/validator-compiler.ts";

/** Set when shutdown begins (preClose); readiness reports it so the load balancer stops sending requests. */
export class ClosingFlag {
  closing = false;
}

export interface HttpPluginOptions {
  config: Pick<AppConfig, "RATE_LIMIT_MAX" | "RATE_LIMIT_WINDOW_MS">;
  admission: PoolAdmission;
  closing: ClosingFlag;
}

/** Requests arriving during shutdown get a problem+json 503 (Fastify's own would be plain JSON). */
function registerClosingGuard(app: FastifyInstance, flag: ClosingFlag): void {
  app.addHook("preClose", async () => {
    flag.closing = true;
  });
  app.addHook("onRequest", async (request, reply) => {
    if (!flag.closing || request.url === "/livez" || request.url === "/readyz") return;
    reply.header("connection", "close");
    return sendProblem(reply, request, new ServiceUnavailableError({ detail: "The server is shutting down", extensions: { retryAfterSeconds: 1 } }));
  });
}

/** Every response names its trace, so a user can find the order's trace in Jaeger. */
function registerTraceparentHeader(app: FastifyInstance): void {
  app.addHook("onSend", async (_request, reply, payload) => {
    const headers = currentTraceparent();
    if (headers) reply.header("traceparent", headers.traceparent);
    return payload;
  });
}

async function httpConcerns(app: FastifyInstance, options: HttpPluginOptions): Promise<void> {
  app.setValidatorCompiler(createValidatorCompiler());
  // Only JSON bodies: text/plain would otherwise be parsed and fail later with a less helpful 422.
  app.removeContentTypeParser("text/plain");
  registerProblemHandling(app);
  registerClosingGuard(app, options.closing);
  await registerRateLimits(app, { max: options.config.RATE_LIMIT_MAX, windowMs: options.config.RATE_LIMIT_WINDOW_MS });
  registerLoadShedding(app, options.admission);
  registerTraceparentHeader(app);
}

export const httpPlugin = fp(httpConcerns, { name: "order-api-http" });
