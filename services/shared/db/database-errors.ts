import { CodedError, type ErrorDefinition } from "../errors/coded-error.ts";

const DEFINITION: ErrorDefinition = {
  code: "DATABASE_UNAVAILABLE",
  status: 503,
  title: "The database is temporarily unavailable",
  canRetry: true,
};

/**
 * Connection-level database failures, told apart from query errors so callers can react to an outage
 * (the API answers 503 with Retry-After) instead of treating it as a bug (500). A CodedError, so the HTTP layer
 * renders it as a problem without knowing it; `message` (logs) names the target, `detail` (client) does not.
 */
export class DatabaseUnavailableError extends CodedError {
  static readonly definition = DEFINITION;
  /** The driver's or PostgreSQL's error code, e.g. ECONNREFUSED, 57P01, P1001. */
  readonly driverCode: string | undefined;
  /** host:port/database, never the password. */
  readonly target: string | undefined;

  constructor(message: string, options: { driverCode?: string; target?: string; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(DEFINITION, {
      detail: "The database cannot be reached right now; nothing was written. Retry shortly.",
      extensions: { retryAfterSeconds: options.retryAfterSeconds ?? 2 },
      context: { driverCode: options.driverCode, target: options.target },
      cause: options.cause,
    });
    this.name = "DatabaseUnavailableError";
    this.message = message;
    this.driverCode = options.driverCode;
    this.target = options.target;
  }
}

// Node socket errors: the server is down, unreachable or the connection broke mid-way.
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);

// PostgreSQL SQLSTATEs that mean "not available right now", not "your query is wrong":
// class 08 (connection exception), 53300 too_many_connections, 57P01..57P03 admin/crash shutdown and
// cannot_connect_now (starting up / recovering), 57014 query_canceled (our statement_timeout: overloaded or
// blocked; the transaction rolled back, so retrying later is right).
const POSTGRES_UNAVAILABLE = [/^08/, /^53300$/, /^57P0[123]$/, /^57014$/];

// Error kinds of Prisma's driver adapters (error.meta.driverAdapterError.cause.kind).
const ADAPTER_UNAVAILABLE_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);

// Prisma error codes for the same situations: P1001 can't reach server, P1002 timed out, P1017 closed,
// P2024 timed out fetching a connection from the pool.
const PRISMA_UNAVAILABLE = new Set(["P1001", "P1002", "P1017", "P2024"]);

// Messages without a code: pg's own pool/client timeouts and broken connections.
const MESSAGE_PATTERNS = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /connection (?:was )?(?:closed|refused|reset)/i,
  /client has encountered a connection error/i,
  /can't reach database server/i,
];

interface ErrorLike {
  code?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  meta?: unknown;
}

function asErrorLike(value: unknown): ErrorLike | undefined {
  return typeof value === "object" && value !== null ? (value as ErrorLike) : undefined;
}

/**
 * The code that marks `error` (or something in its cause chain, incl. AggregateError members and Prisma's
 * driver-adapter meta) as a connection failure, or undefined when it is an ordinary error.
 */
export function connectionFailureCode(error: unknown, depth = 0): string | undefined {
  // An error that already says what it is (a provider's TransientError, a PermanentError, ...) is never taken for
  // a database outage because its message happens to read like one ("connection reset by the provider").
  if (error instanceof CodedError && !(error instanceof DatabaseUnavailableError)) return undefined;
  const e = asErrorLike(error);
  if (!e || depth > 8) return undefined;
  const code = typeof e.code === "string" ? e.code : undefined;
  if (code && (NETWORK_CODES.has(code) || PRISMA_UNAVAILABLE.has(code) || POSTGRES_UNAVAILABLE.some((re) => re.test(code)))) {
    return code;
  }
  if (typeof e.kind === "string" && ADAPTER_UNAVAILABLE_KINDS.has(e.kind)) return code ?? e.kind;
  const message = typeof e.message === "string" ? e.message : "";
  if (MESSAGE_PATTERNS.some((re) => re.test(message))) return code ?? "CONNECTION";
  const meta = asErrorLike(e.meta) as { driverAdapterError?: unknown } | undefined;
  const nested = [e.cause, meta?.driverAdapterError, ...(Array.isArray(e.errors) ? e.errors : [])];
  for (const inner of nested) {
    const found = connectionFailureCode(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return error instanceof DatabaseUnavailableError || connectionFailureCode(error) !== undefined;
}

/** "127.0.0.1:5432/orderflow" for messages; the password never appears. */
export function describeDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || "5432"}${url.pathname}`;
  } catch {
    return "(unparsable DATABASE_URL)";
  }
}

/** Returns `error` as a DatabaseUnavailableError when it is a connection failure, else `error` unchanged. */
export function toDatabaseError(error: unknown, databaseUrl?: string): unknown {
  if (error instanceof DatabaseUnavailableError) return error;
  const code = connectionFailureCode(error);
  if (code === undefined) return error;
  const target = databaseUrl ? describeDatabaseUrl(databaseUrl) : undefined;
  const reason = asErrorLike(error)?.message;
  return new DatabaseUnavailableError(
    `PostgreSQL${target ? ` at ${target}` : ""} is unavailable (${code}): ${typeof reason === "string" ? reason : String(error)}`,
    { driverCode: code, target, cause: error },
  );
}

/** Runs `work`, rethrowing connection failures as DatabaseUnavailableError. */
export async function mapDatabaseErrors<T>(work: () => Promise<T>, databaseUrl?: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toDatabaseError(error, databaseUrl);
  }
}
