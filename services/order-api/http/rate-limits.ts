/**
 * Per-client rate limits (@fastify/rate-limit, in-process store): a client is its bearer token when it sends one
 * (an API key), else its address. Past RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW_MS it gets 429 problem+json
 * with Retry-After. Health checks are never limited. Several API instances each count on their own; a shared limit
 * needs the plugin's Redis store or the gateway in front.
 */
import { createHash } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { RateLimitedError } from "../../shared/errors/http-errors.ts";
import { bearerToken } from "./bearer-auth.ts";

const NEVER_LIMITED = new Set(["/livez", "/readyz"]);

function clientKey(request: FastifyRequest): string {
  const token = bearerToken(request);
  // Hashed: the store's keys must not hold the tokens themselves.
  return token === "" ? `ip:${request.ip}` : `token:${createHash("sha256").update(token).digest("base64url").slice(0, 22)}`;
}

export async function registerRateLimits(app: FastifyInstance, options: { max: number; windowMs: number }): Promise<void> {
  if (options.max <= 0) return;
  await app.register(rateLimit, {
    max: options.max,
    timeWindow: options.windowMs,
    keyGenerator: clientKey,
    allowList: (request) => NEVER_LIMITED.has(request.routeOptions.url ?? ""),
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError({
        detail: `More than ${context.max} requests in ${options.windowMs} ms from this client; retry after ${context.after}`,
        extensions: { retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) },
      }),
  });
}
