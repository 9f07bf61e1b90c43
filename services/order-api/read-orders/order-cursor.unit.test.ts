import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "./order-cursor.ts";

describe("order cursor", () => {
  it("round-trips", () => {
    const cursor = { createdAt: new Date("2026-11-24T10:00:00.123Z"), id: "0b6e3c1e-8f4a-4d8e-9a51-7f0c2f1c9d11" };
    const text = encodeCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(cursor);
  });

  it.each(["x", Buffer.from("{}").toString("base64url"), Buffer.from('{"t":"nope","id":"0b6e3c1e-8f4a-4d8e-9a51-7f0c2f1c9d11"}').toString("base64url")])(
    "rejects %s",
    (text) => expect(() => decodeCursor(text)).toThrow(/cursor/i),
  );
});
