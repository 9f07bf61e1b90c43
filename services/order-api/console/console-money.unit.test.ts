import { readFile } from "node:fs/promises";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";

type Money = (minor: number, currency: string) => string;

/** Runs the browser script as a page would (no build step), with just the globals it touches at load. */
async function loadConsoleCommon(): Promise<{ money: Money }> {
  const source = await readFile(new URL("./console-common.js", import.meta.url), "utf8");
  const window: { orderflowConsole?: { money: Money } } = {};
  const sessionStorage = { getItem: () => null, setItem: () => undefined };
  runInNewContext(source, {
    window,
    location: { hash: "", pathname: "/", search: "" },
    sessionStorage,
    history: { replaceState: () => undefined },
    Intl,
    URLSearchParams,
  });
  return window.orderflowConsole!;
}

describe("the console pages' money format", () => {
  it("uses the currency's own minor unit, not always hundredths", async () => {
    const { money } = await loadConsoleCommon();
    expect(money(8400, "EUR")).toBe("84.00 EUR");
    expect(money(500, "JPY")).toBe("500 JPY");
    expect(money(1234, "BHD")).toBe("1.234 BHD");
  });
});
