import { describe, expect, it } from "vitest";
import { toFieldProblems } from "./validation-problems.ts";

describe("toFieldProblems", () => {
  it("points at missing and extra members themselves, escapes pointer tokens and de-duplicates", () => {
    expect(
      toFieldProblems([
        { keyword: "required", instancePath: "", params: { missingProperty: "customerId" }, message: "must have required property 'customerId'" },
        { keyword: "additionalProperties", instancePath: "/items/0", params: { additionalProperty: "a/b~c" }, message: "must NOT have additional properties" },
        { keyword: "minimum", instancePath: "/items/1/quantity", params: {}, message: "must be >= 1" },
        { keyword: "minimum", instancePath: "/items/1/quantity", params: {}, message: "must be >= 1" },
        { keyword: "type", instancePath: "", params: {}, message: "must be object" },
      ]),
    ).toEqual([
      { pointer: "/customerId", detail: "is required" },
      { pointer: "/items/0/a~1b~0c", detail: "is not an allowed property" },
      { pointer: "/items/1/quantity", detail: "must be >= 1" },
      { pointer: "", detail: "must be object" },
    ]);
  });

  it("names query and path parameters", () => {
    expect(toFieldProblems([{ keyword: "maximum", instancePath: "/limit", params: {}, message: "must be <= 100" }], "parameter")).toEqual([
      { parameter: "limit", detail: "must be <= 100" },
    ]);
  });
});
