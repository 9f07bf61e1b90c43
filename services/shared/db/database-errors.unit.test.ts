import { describe, expect, it } from "vitest";
import { CodedError } from "../errors/coded-error.ts";
import {
  connectionFailureCode,
  DatabaseUnavailableError,
  describeDatabaseUrl,
  isDatabaseUnavailable,
  mapDatabaseErrors,
  toDatabaseError,
} from "./database-errors.ts";

// Shapes as observed from pg and from Prisma 7 with @prisma/adapter-pg.
const prismaUnreachable = Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), {
  code: "P1001",
  meta: { driverAdapterError: { name: "DriverAdapterError", cause: { kind: "DatabaseNotReachable", host: "127.0.0.1", port: 5432 } } },
});
const prismaCheckViolation = Object.assign(new Error("violates check constraint"), {
  code: "P2039",
  meta: { driverAdapterError: { cause: { kind: "postgres", code: "23514", originalCode: "23514" } } },
});
const adminShutdown = Object.assign(new Error("raw query failed"), {
  code: "P2010",
  meta: { driverAdapterError: { cause: { kind: "postgres", code: "57P01" } } },
});

describe("connection failure detection", () => {
  it("recognises unreachable servers, shutdowns, timeouts and broken sockets", () => {
    expect(connectionFailureCode(prismaUnreachable)).toBe("P1001");
    expect(connectionFailureCode(adminShutdown)).toBe("57P01");
    expect(connectionFailureCode(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }))).toBe("ECONNREFUSED");
    expect(connectionFailureCode(new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })]))).toBe("ECONNREFUSED");
    expect(connectionFailureCode(new Error("timeout exceeded when trying to connect"))).toBe("CONNECTION");
    expect(connectionFailureCode({ kind: "ConnectionClosed" })).toBe("ConnectionClosed");
  });

  it("leaves query errors alone", () => {
    expect(isDatabaseUnavailable(prismaCheckViolation)).toBe(false);
    expect(toDatabaseError(prismaCheckViolation)).toBe(prismaCheckViolation);
    expect(isDatabaseUnavailable("boom")).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
  });

  it("does not take an error that says what it is for an outage, whatever its message reads like", () => {
    const providerHiccup = new CodedError(
      { code: "PROVIDER_UNAVAILABLE", status: 503, title: "Provider unavailable", canRetry: true },
      { detail: "connection reset by the provider" },
    );
    expect(isDatabaseUnavailable(providerHiccup)).toBe(false);
    expect(isDatabaseUnavailable(new Error("Connection terminated unexpectedly"))).toBe(true);
  });
});

describe("DatabaseUnavailableError", () => {
  it("is a retryable 503 problem whose client detail hides the target", async () => {
    const mapped = await mapDatabaseErrors(() => Promise.reject(prismaUnreachable), "postgresql://u:secret@127.0.0.1:5432/orderflow").catch((e: unknown) => e);
    expect(mapped).toBeInstanceOf(DatabaseUnavailableError);
    const error = mapped as DatabaseUnavailableError;
    expect(error.message).toContain("127.0.0.1:5432/orderflow");
    expect(error.message).not.toContain("secret");
    expect(error.driverCode).toBe("P1001");
    const problem = error.toProblem();
    expect(problem).toMatchObject({ status: 503, code: "DATABASE_UNAVAILABLE", canRetry: true, retryAfterSeconds: 2 });
    expect(JSON.stringify(problem)).not.toContain("127.0.0.1");
  });

  it("describes a URL without its password", () => {
    expect(describeDatabaseUrl("postgresql://orderflow:pw@127.0.0.1:55432/x")).toBe("127.0.0.1:55432/x");
    expect(describeDatabaseUrl("not a url")).toBe("(unparsable DATABASE_URL)");
  });
});
