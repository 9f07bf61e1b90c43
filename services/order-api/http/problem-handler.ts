import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { CodedError } from "../../shared/errors/coded-error.ts";
import {
  BadRequestError,
  InternalError,
  MalformedJsonError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from "../../shared/errors/http-errors.ts";
import { DatabaseUnavailableError } from "../../shared/db/index.ts";
import { DependencyUnavailableError } from "../../shared/errors/dependency-errors.ts";
import { classifyFailure, outageCode } from "../../shared/resilience/failure-class.ts";
import { toFieldProblems, type SchemaViolation } from "./validation-problems.ts";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
/** Seconds a client should wait before retrying after a database outage. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

function fastifyErrorToCoded(error: FastifyError): CodedError | undefined {
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new MalformedJsonError({ detail: error.code === "FST_ERR_CTP_EMPTY_JSON_BODY" ? "The body is empty" : "The body is not valid JSON" });
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new PayloadTooLargeError({ detail: "The body exceeds the size limit" });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
        ? new UnsupportedMediaTypeError({ detail: "Send the body as application/json" })
        : new BadRequestError({ detail: "Content-Length does not match the body" });
    default:
      break;
  }
  // secure-json-parse's prototype-poisoning guard throws a SyntaxError that Fastify passes on with status 400.
  if (error instanceof SyntaxError || /prototype property|constructor property/i.test(error.message)) {
    return new MalformedJsonError({ detail: "The body contains a forbidden __proto__ or constructor key" });
  }
  return undefined;
}

function validationToCoded(error: FastifyError): CodedError {
  const violations = (error.validation ?? []) as unknown as SchemaViolation[];
  if (error.validationContext === "body") {
    return new ValidationError({ detail: "The body does not match the schema", errors: toFieldProblems(violations, "body") });
  }
  return new BadRequestError({ detail: `Invalid ${error.validationContext ?? "request"}`, errors: toFieldProblems(violations, "parameter") });
}

/**
 * An outage (the one failure taxonomy, resilience/failure-class.ts) as a 503 with Retry-After: the dependency's
 * own error when it names one, else the database's (the only dependency the API calls on a request).
 */
function outage(error: unknown): CodedError | undefined {
  if (classifyFailure(error) !== "outage") return undefined;
  if (error instanceof DependencyUnavailableError) return error;
  const code = outageCode(error) ?? "CONNECTION";
  return new DatabaseUnavailableError(`database unavailable (${code})`, { driverCode: code, cause: error, retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS });
}

/** Any error as a CodedError; unknown errors become a 500 whose detail never reveals internals. */
export function toCodedError(error: unknown): CodedError {
  if (error instanceof CodedError && !(error instanceof DatabaseUnavailableError)) return error;
  const unavailable = outage(error);
  if (unavailable) return unavailable;
  const fastifyError = error as FastifyError;
  if (fastifyError && Array.isArray(fastifyError.validation)) return validationToCoded(fastifyError);
  if (fastifyError && typeof fastifyError.code === "string") {
    const mapped = fastifyErrorToCoded(fastifyError);
    if (mapped) return mapped;
  }
  const status = typeof fastifyError?.statusCode === "number" ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) return new BadRequestError({ detail: "The request cannot be processed", cause: error });
  return new InternalError({ cause: error });
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: CodedError): FastifyReply {
  if ((error.status === 503 || error.status === 429) && typeof error.extensions.retryAfterSeconds === "number") {
    reply.header("retry-after", String(error.extensions.retryAfterSeconds));
  }
  // A string body skips the response schemas, so no member of the problem is dropped by serialization.
  return reply
    .code(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(error.toProblem(request.url.split("?")[0])));
}

interface KnownRoute {
  pattern: RegExp;
  methods: Set<string>;
}

/** `/orders/:id` -> /^\/orders\/[^/]+$/ to tell "unknown path" (404) from "known path, wrong method" (405). */
function routePattern(url: string): RegExp {
  const escaped = url
    .split("/")
    .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment === "*" ? ".*" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${escaped}/?$`);
}

/**
 * RFC 9457 problem+json for every error and unknown route (404, 405 with Allow), 503 + Retry-After for a
 * database outage; stack traces and internal messages stay in the log.
 */
export function registerProblemHandling(app: FastifyInstance): void {
  const routes = new Map<string, KnownRoute>();
  app.addHook("onRoute", (route) => {
    const known = routes.get(route.url) ?? { pattern: routePattern(route.url), methods: new Set<string>() };
    for (const method of [route.method].flat()) known.methods.add(method.toUpperCase());
    routes.set(route.url, known);
  });

  app.setErrorHandler((error, request, reply) => {
    const coded = toCodedError(error);
    // Shed and rate-limited requests come in floods: logging each would spend the CPU the shedding saves.
    if (coded.code === "OVERLOADED" || coded.code === "RATE_LIMITED") request.log.debug({ code: coded.code }, "request refused");
    else if (coded.status >= 500) request.log.error({ err: error, code: coded.code, ...coded.context }, "request failed");
    else request.log.info({ code: coded.code, detail: coded.detail, ...coded.context }, "request rejected");
    return sendProblem(reply, request, coded);
  });

  // Unknown routes are answered in onRequest, before body parsing: DELETE /orders with a bad body is a 405,
  // not a JSON error. The not-found handler stays as the fallback for anything that gets past it.
  const answerUnknownRoute = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = request.url.split("?")[0] ?? "/";
    const allowed = new Set<string>();
    for (const known of routes.values()) if (known.pattern.test(path)) for (const method of known.methods) allowed.add(method);
    if (allowed.size > 0) {
      reply.header("allow", [...allowed].sort().join(", "));
      return sendProblem(reply, request, new MethodNotAllowedError({ detail: `${request.method} is not allowed on ${path}` }));
    }
    return sendProblem(reply, request, new NotFoundError({ detail: `No resource at ${path}` }));
  };
  app.addHook("onRequest", async (request, reply) => {
    if (request.is404) return answerUnknownRoute(request, reply);
  });
  app.setNotFoundHandler(answerUnknownRoute);
}
