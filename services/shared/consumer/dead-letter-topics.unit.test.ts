import { describe, expect, it } from "vitest";
import { DeadLetterNotFoundError, DeadLetterSelectionError, readPlan, replayedFrom, selectLetters, type DeadLetter } from "./dead-letter-topics.ts";

const letter = (partition: number, offset: string): DeadLetter => ({ topic: "dlq.inventory", partition, offset, key: null, value: null, headers: {} });

describe("dead-letter reads", () => {
  const offsets = [
    { partition: 0, low: 0, high: 500 },
    { partition: 1, low: 10, high: 12 },
    { partition: 2, low: 7, high: 7 },
  ];

  it("plans the newest maxLetters of each non-empty partition, or everything", () => {
    expect([...readPlan(offsets, { maxLetters: 100 })]).toEqual([
      [0, { start: 400, end: 500 }],
      [1, { start: 10, end: 12 }],
    ]);
    expect([...readPlan(offsets)]).toEqual([
      [0, { start: 0, end: 500 }],
      [1, { start: 10, end: 12 }],
    ]);
  });

  it("plans a single letter for a replay, and nothing when it is outside the log", () => {
    expect([...readPlan(offsets, { only: { partition: 0, offset: 42 } })]).toEqual([[0, { start: 42, end: 43 }]]);
    expect(readPlan(offsets, { only: { partition: 1, offset: 3 } }).size).toBe(0);
    expect(readPlan(offsets, { only: { partition: 9, offset: 0 } }).size).toBe(0);
  });

  it("selects one letter by offset (and partition), all, or says why not", () => {
    const letters = [letter(0, "5"), letter(1, "5"), letter(1, "6")];
    expect(selectLetters(letters, { all: false, offset: "6" })).toEqual([letters[2]]);
    expect(selectLetters(letters, { all: false, offset: "5", partition: 1 })).toEqual([letters[1]]);
    expect(selectLetters(letters, { all: true })).toHaveLength(3);
    expect(() => selectLetters(letters, { all: false, offset: "5" })).toThrow(DeadLetterSelectionError);
    expect(() => selectLetters(letters, { all: false })).toThrow(DeadLetterSelectionError);
    expect(() => selectLetters(letters, { all: false, offset: "9" })).toThrow(DeadLetterNotFoundError);
    expect(replayedFrom(letters[1]!)).toBe("dlq.inventory/1@5");
  });
});
