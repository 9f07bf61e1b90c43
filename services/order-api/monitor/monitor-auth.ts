import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { defineError } from "../../shared/errors/coded-error.ts";

export const UnauthorizedError = defineError({ code: "UNAUTHORIZED", status: 401, title: "Missing or wrong bearer token" });

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * preHandler for /monitor/*: with MONITOR_TOKEN set, requires `Authorization: Bearer <token>` (RFC 6750); the live
 * page's EventSource-free polling passes it the same way. Without a token the monitor is open (local use).
 */
export function requireMonitorToken(token: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (token === "") return;
    const header = request.headers.authorization ?? "";
    const given = header.toLowerCase().startsWith("bearer ") ? header.slice(7).trim() : "";
    if (given !== "" && sameSecret(given, token)) return;
    reply.header("www-authenticate", given === "" ? 'Bearer realm="orderflow-monitor"' : 'Bearer realm="orderflow-monitor", error="invalid_token"');
    throw new UnauthorizedError({ detail: "Send the monitor token as Authorization: Bearer <MONITOR_TOKEN>" });
  };
}
