/**
 * Coded errors that know how they look on the wire: each code maps to one RFC 9457 problem type, an HTTP status
 * and whether retrying the same request can succeed (like Emmett's and Platformatic's error classes). Services
 * throw these; the HTTP layer turns them into application/problem+json without knowing each error.
 */

/**
 * One field-level problem: `pointer` is a JSON Pointer (RFC 6901) into the request body, e.g. "/items/1/sku";
 * `parameter` names a query or path parameter; `header` a request header.
 */
export type FieldProblem = { pointer: string; detail: string } | { parameter: string; detail: string } | { header: string; detail: string };

/** RFC 9457 problem details plus the members Orderflow adds (code, canRetry, errors). */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Stable machine-readable code, e.g. "ORDER_VALIDATION_FAILED". */
  code: string;
  /** True when the same request may succeed later (outage, in-flight duplicate); clients may retry with backoff. */
  canRetry: boolean;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

export interface ErrorDefinition {
  /** UPPER_SNAKE_CASE, stable: clients and dashboards match on it. */
  code: string;
  status: number;
  title: string;
  canRetry?: boolean;
}

export interface CodedErrorOptions {
  /** Safe for the client (goes into `detail`). */
  detail?: string;
  errors?: FieldProblem[];
  /** Extra problem members for the client, e.g. { retryAfterSeconds: 5 }. */
  extensions?: Record<string, unknown>;
  /** For logs only (ids, SQL state...): never sent to the client. */
  context?: Record<string, unknown>;
  cause?: unknown;
}

/** URN per code: stable, never dereferenced, so no documentation host has to exist for it to be valid. */
export function problemType(code: string): string {
  return `urn:orderflow:problem:${code.toLowerCase().replace(/_/g, "-")}`;
}

export class CodedError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly canRetry: boolean;
  readonly detail: string | undefined;
  readonly errors: FieldProblem[] | undefined;
  readonly extensions: Record<string, unknown>;
  readonly context: Record<string, unknown>;

  constructor(definition: ErrorDefinition, options: CodedErrorOptions = {}) {
    super(options.detail ?? definition.title, { cause: options.cause });
    this.name = "CodedError";
    this.code = definition.code;
    this.status = definition.status;
    this.title = definition.title;
    this.canRetry = definition.canRetry ?? false;
    this.detail = options.detail;
    this.errors = options.errors;
    this.extensions = options.extensions ?? {};
    this.context = options.context ?? {};
  }

  toProblem(instance?: string): ProblemDetails {
    const problem: ProblemDetails = {
      ...this.extensions,
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      code: this.code,
      canRetry: this.canRetry,
    };
    if (this.detail !== undefined) problem.detail = this.detail;
    if (instance !== undefined) problem.instance = instance;
    if (this.errors !== undefined && this.errors.length > 0) problem.errors = this.errors;
    return problem;
  }
}

/** A subclass per definition, so `instanceof` works and call sites read `throw new OrderNotFound({ detail })`. */
export type CodedErrorClass = (new (options?: CodedErrorOptions) => CodedError) & { readonly definition: ErrorDefinition };

export function defineError(definition: ErrorDefinition): CodedErrorClass {
  const named = class extends CodedError {
    static readonly definition = definition;
    constructor(options: CodedErrorOptions = {}) {
      super(definition, options);
      this.name = toClassName(definition.code);
    }
  };
  Object.defineProperty(named, "name", { value: toClassName(definition.code) });
  return named;
}

function toClassName(code: string): string {
  return (
    code
      .toLowerCase()
      .split("_")
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join("") + "Error"
  );
}
