/**
 * RFC 7240 `Prefer: wait=N`: the seconds a client is willing to wait for the final outcome. Several preferences
 * may share one header or be spread over several (`Prefer: respond-async, wait=10`); names are case-insensitive,
 * values may be quoted. Larger values than the server allows are capped silently, as RFC 7240 permits.
 */
export function parsePreferWait(header: string | string[] | undefined, maxSeconds: number): number | undefined {
  if (header === undefined) return undefined;
  const preferences = (Array.isArray(header) ? header : [header]).flatMap((value) => value.split(","));
  for (const preference of preferences) {
    // Parameters after ";" belong to the preference and do not change its value.
    const [token] = preference.split(";");
    const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*$/i.exec(token ?? "");
    if (!match) continue;
    const seconds = Math.min(Number(match[1]), maxSeconds);
    return seconds > 0 ? seconds : undefined;
  }
  return undefined;
}

export const FINAL_STATUSES = new Set(["CONFIRMED", "CANCELLED"]);
