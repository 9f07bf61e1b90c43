import { defineError } from "./coded-error.ts";

/**
 * The generic HTTP problems every service can answer with. Domain errors (e.g. an order's) are defined beside
 * their domain with defineError and the same shape.
 */
export const BadRequestError = defineError({ code: "BAD_REQUEST", status: 400, title: "The request is malformed" });
export const MalformedJsonError = defineError({ code: "MALFORMED_JSON", status: 400, title: "The request body is not valid JSON" });
export const NotFoundError = defineError({ code: "NOT_FOUND", status: 404, title: "Resource not found" });
export const MethodNotAllowedError = defineError({ code: "METHOD_NOT_ALLOWED", status: 405, title: "Method not allowed" });
export const PayloadTooLargeError = defineError({ code: "PAYLOAD_TOO_LARGE", status: 413, title: "Request body too large" });
export const UnsupportedMediaTypeError = defineError({ code: "UNSUPPORTED_MEDIA_TYPE", status: 415, title: "Unsupported media type" });
export const ValidationError = defineError({ code: "VALIDATION_FAILED", status: 422, title: "The request is not valid" });
export const InternalError = defineError({ code: "INTERNAL", status: 500, title: "Internal server error" });
export const ServiceUnavailableError = defineError({ code: "SERVICE_UNAVAILABLE", status: 503, title: "Service temporarily unavailable", canRetry: true });
export const UnauthorizedError = defineError({ code: "UNAUTHORIZED", status: 401, title: "Missing or wrong bearer token" });
export const RateLimitedError = defineError({ code: "RATE_LIMITED", status: 429, title: "Too many requests", canRetry: true });
/** The service is saturated (not broken): it refuses at once instead of queueing; retry after the Retry-After. */
export const OverloadedError = defineError({ code: "OVERLOADED", status: 503, title: "The service is overloaded", canRetry: true });
