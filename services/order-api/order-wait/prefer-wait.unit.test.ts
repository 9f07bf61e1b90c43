import { describe, expect, it } from "vitest";
import { parsePreferWait } from "./prefer-wait.ts";

describe("Prefer: wait", () => {
  it("reads wait among other preferences, case-insensitive, quoted or with parameters", () => {
    expect(parsePreferWait("wait=5", 30)).toBe(5);
    expect(parsePreferWait("respond-async, WAIT = 7", 30)).toBe(7);
    expect(parsePreferWait('wait="3"', 30)).toBe(3);
    expect(parsePreferWait(["return=minimal", "wait=4;foo=bar"], 30)).toBe(4);
  });

  it("caps silently at the maximum and ignores absent, zero or malformed values", () => {
    expect(parsePreferWait("wait=600", 30)).toBe(30);
    expect(parsePreferWait(undefined, 30)).toBeUndefined();
    expect(parsePreferWait("wait=0", 30)).toBeUndefined();
    expect(parsePreferWait("wait=-1", 30)).toBeUndefined();
    expect(parsePreferWait("wait=abc", 30)).toBeUndefined();
    expect(parsePreferWait("handling=strict", 30)).toBeUndefined();
  });
});
