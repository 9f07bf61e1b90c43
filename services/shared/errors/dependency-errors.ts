import { CodedError } from "./coded-error.ts";

/** The dependencies whose outage pauses work instead of failing it. */
export type Dependency = "database" | "schema-registry" | "payment-provider" | "kafka";

export interface DependencyErrorOptions {
  /** Stable code, e.g. PROVIDER_TIMEOUT; DEPENDENCY_UNAVAILABLE by default. */
  code?: string;
  cause?: unknown;
  retryAfterSeconds?: number;
}

/**
 * A dependency cannot be used right now (down, timing out, answering 5xx). Nothing about the message or request
 * is wrong: the consumer runner pauses the partition and tries again later (never dead-letters), the API answers
 * 503 with Retry-After. See resilience/failure-class.ts.
 */
export class DependencyUnavailableError extends CodedError {
  readonly dependency: Dependency;

  constructor(dependency: Dependency, message: string, options: DependencyErrorOptions = {}) {
    super(
      { code: options.code ?? "DEPENDENCY_UNAVAILABLE", status: 503, title: `The ${dependency} is temporarily unavailable`, canRetry: true },
      { detail: message, extensions: { retryAfterSeconds: options.retryAfterSeconds ?? 2 }, context: { dependency }, cause: options.cause },
    );
    this.name = "DependencyUnavailableError";
    this.dependency = dependency;
  }
}
