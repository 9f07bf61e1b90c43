/**
 * Bearer tokens (RFC 6750) for the parts of the API that are not for the public: reads of customer data
 * (ORDERS_READ_TOKEN) and operations (MONITOR_TOKEN). An empty token leaves its part open, which the API only
 * accepts in development on loopback (startup/required-secrets.ts). This is an API key per role, enough to keep
 * strangers out; a real deployment puts an identity-aware gateway (OIDC/OAuth 2 client credentials, mTLS between
 * services) in front and passes each caller's identity on.
 */
import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { UnauthorizedError } from "../../shared/errors/http-errors.ts";

export type BearerCheck = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token of `Authorization: Bearer <token>`, or "" when there is none. */
export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization ?? "";
  return header.toLowerCase().startsWith("bearer ") ? header.slice(7).trim() : "";
}

/** True when `token` is configured and the request carries it. */
export function hasToken(request: FastifyRequest, token: string): boolean {
  const given = bearerToken(request);
  return token !== "" && given !== "" && sameSecret(given, token);
}

/** preHandler requiring `token` (when set); `realm` and `variable` name the role in the 401. */
export function requireBearer(token: string, realm: string, variable: string): BearerCheck {
  return async (request, reply) => {
    if (token === "" || hasToken(request, token)) return;
    const given = bearerToken(request);
    reply.header("www-authenticate", given === "" ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="invalid_token"`);
    throw new UnauthorizedError({ detail: `Send the token as Authorization: Bearer <${variable}>` });
  };
}
