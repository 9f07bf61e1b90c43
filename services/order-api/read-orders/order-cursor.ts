import { InvalidCursorError } from "../order-errors.ts";
import { parseTimestamp } from "./order-timestamps.ts";

/** Position after the last order of a page, in the list's (created_at DESC, id DESC) order. */
export interface OrderCursor {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Exactly what encodeCursor writes (Date#toISOString of a year 0001..9999): anything else was not made here. */
const ENCODED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Opaque to clients (base64url JSON) so the key can change without breaking their code. */
export function encodeCursor(cursor: OrderCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt.toISOString(), id: cursor.id }), "utf8").toString("base64url");
}

export function decodeCursor(text: string): OrderCursor {
  const invalid = () =>
    new InvalidCursorError({ detail: "Use the nextCursor of a previous page unchanged", errors: [{ parameter: "cursor", detail: "invalid" }] });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  const { t, id } = (parsed ?? {}) as { t?: unknown; id?: unknown };
  if (typeof t !== "string" || typeof id !== "string" || !UUID.test(id) || !ENCODED_TIME.test(t)) throw invalid();
  const createdAt = parseTimestamp(t);
  if (createdAt === undefined) throw invalid();
  return { createdAt, id };
}
