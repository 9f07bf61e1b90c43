/** The body the payment provider POSTs to /payments/webhook, and its validation (after the signature check). */

export const CALLBACK_TYPES = ["payment.authorized", "payment.declined"] as const;
export type CallbackType = (typeof CALLBACK_TYPES)[number];

export interface ProviderCallback {
  /** The provider's event id: a redelivery carries the same id. */
  id: string;
  type: CallbackType;
  /** Unix seconds when the provider created the event. */
  created: number;
  data: { payment_id: string; reason?: string };
}

export type ParsedCallback = { ok: true; callback: ProviderCallback } | { ok: false; problems: { pointer: string; detail: string }[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Validates the parsed JSON; returns field problems as JSON pointers for the 422 problem. */
export function parseProviderCallback(body: unknown): ParsedCallback {
  if (!isRecord(body)) return { ok: false, problems: [{ pointer: "", detail: "must be a JSON object" }] };
  const problems: { pointer: string; detail: string }[] = [];
  if (typeof body.id !== "string" || !ID_PATTERN.test(body.id)) problems.push({ pointer: "/id", detail: "must be 1-128 characters of [A-Za-z0-9_.:-]" });
  if (typeof body.type !== "string" || !(CALLBACK_TYPES as readonly string[]).includes(body.type)) {
    problems.push({ pointer: "/type", detail: `must be one of ${CALLBACK_TYPES.join(", ")}` });
  }
  if (typeof body.created !== "number" || !Number.isInteger(body.created)) problems.push({ pointer: "/created", detail: "must be unix seconds" });
  const data = body.data;
  if (!isRecord(data)) problems.push({ pointer: "/data", detail: "must be an object" });
  else {
    if (typeof data.payment_id !== "string" || !ID_PATTERN.test(data.payment_id))
      problems.push({ pointer: "/data/payment_id", detail: "must be the provider's payment id" });
    if (data.reason !== undefined && (typeof data.reason !== "string" || data.reason.length > 200))
      problems.push({ pointer: "/data/reason", detail: "must be a string of at most 200 characters" });
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, callback: body as unknown as ProviderCallback };
}
