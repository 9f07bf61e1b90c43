import { describe, expect, it } from "vitest";
import { DatabaseUnavailableError } from "../db/database-errors.ts";
import { CodedError } from "../errors/coded-error.ts";
import { DependencyUnavailableError } from "../errors/dependency-errors.ts";
import { PermanentError, TransientError } from "../consumer/consumer-handler.ts";
import { classifyFailure } from "./failure-class.ts";

const withCode = (code: string, message = "failed") => Object.assign(new Error(message), { code });

describe("classifyFailure: one taxonomy for the API, the relay and the runner", () => {
  it("calls every 'dependency unavailable' an outage (pause / 503), never a message failure", () => {
    expect(classifyFailure(new DependencyUnavailableError("payment-provider", "503 from the provider", { code: "PROVIDER_UNAVAILABLE" }))).toBe("outage");
    expect(classifyFailure(new DependencyUnavailableError("payment-provider", "timed out", { code: "PROVIDER_TIMEOUT" }))).toBe("outage");
    expect(classifyFailure(new DependencyUnavailableError("schema-registry", "registry down"))).toBe("outage");
    expect(classifyFailure(new DatabaseUnavailableError("down"))).toBe("outage");
    expect(classifyFailure(withCode("ECONNREFUSED"))).toBe("outage");
    expect(classifyFailure(withCode("57014", "canceling statement due to statement timeout"))).toBe("outage");
    // Prisma: "Unable to start a transaction in the given time": an overloaded pool, not a bad message.
    expect(classifyFailure(withCode("P2028"))).toBe("outage");
  });

  it("retries lost races and unknown errors, dead-letters what belongs to the message", () => {
    expect(classifyFailure(withCode("40001"))).toBe("retryable");
    expect(classifyFailure(withCode("40P01"))).toBe("retryable");
    expect(classifyFailure(new TransientError("try again"))).toBe("retryable");
    expect(classifyFailure(new TypeError("bug"))).toBe("retryable");
    expect(classifyFailure(new PermanentError("unknown sku", { code: "UNKNOWN_SKU" }))).toBe("message");
    expect(classifyFailure(new CodedError({ code: "BAD", status: 422, title: "bad", canRetry: false }))).toBe("message");
  });

  it("never mistakes a coded message failure for an outage because of its wording", () => {
    expect(classifyFailure(new PermanentError("connection reset by the provider", { code: "PROVIDER_REFUSED" }))).toBe("message");
  });
});
