import { describe, expect, it } from "vitest";
import { CodedError, defineError, problemType } from "./coded-error.ts";
import { ServiceUnavailableError, ValidationError } from "./http-errors.ts";

describe("coded errors", () => {
  it("renders RFC 9457 problem details with code, canRetry and field errors", () => {
    const error = new ValidationError({ detail: "1 problem", errors: [{ pointer: "/items/0/sku", detail: "unknown SKU" }] });
    expect(error).toBeInstanceOf(CodedError);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.name).toBe("ValidationFailedError");
    expect(error.toProblem("/orders")).toEqual({
      type: "urn:orderflow:problem:validation-failed",
      title: "The request is not valid",
      status: 422,
      code: "VALIDATION_FAILED",
      canRetry: false,
      detail: "1 problem",
      instance: "/orders",
      errors: [{ pointer: "/items/0/sku", detail: "unknown SKU" }],
    });
  });

  it("keeps context out of the problem and lets extensions in", () => {
    const error = new ServiceUnavailableError({ extensions: { retryAfterSeconds: 5 }, context: { sqlState: "57P01" } });
    const problem = error.toProblem();
    expect(problem.canRetry).toBe(true);
    expect(problem.retryAfterSeconds).toBe(5);
    expect(JSON.stringify(problem)).not.toContain("57P01");
  });

  it("cannot be overridden by extensions", () => {
    const Custom = defineError({ code: "ORDER_GONE", status: 410, title: "Gone" });
    const problem = new Custom({ extensions: { status: 200, code: "X" } }).toProblem();
    expect(problem.status).toBe(410);
    expect(problem.code).toBe("ORDER_GONE");
    expect(problemType("ORDER_GONE")).toBe("urn:orderflow:problem:order-gone");
  });
});
