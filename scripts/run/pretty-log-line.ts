/**
 * Turns one pino JSON line of a service into a short line for a person at a terminal:
 * `12:00:01.234 INFO  [payment#1] payment authorized order_id=… trace_id=…`. Lines that are not pino JSON pass
 * through unchanged, so a crash trace or a tool's own output is never lost. The supervisor uses it only when its
 * stdout is a TTY; pipes and files keep the JSON, which log collectors need.
 */

/** Fields already shown in the fixed part of the line, or noise at a terminal. */
const HIDDEN_FIELDS = new Set(["time", "level", "msg", "service", "pid", "hostname", "trace_flags", "span_id", "err"]);
const MAX_VALUE_CHARS = 120;

const LEVEL_COLOURS: Record<string, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[36m",
  info: "\x1b[32m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[35m",
};
const RESET = "\x1b[0m";

/** pino's numeric levels, for loggers configured without the label formatter. */
const NUMERIC_LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

export interface PrettyOptions {
  /** ANSI colours for the level; off for tests and dumb terminals. */
  colour?: boolean;
}

function levelOf(value: unknown): string {
  if (typeof value === "number") return NUMERIC_LEVELS[value] ?? String(value);
  return typeof value === "string" ? value : "info";
}

/** HH:MM:SS.mmm in UTC from an ISO string or epoch milliseconds; the date is noise in a live terminal. */
function clockOf(value: unknown): string {
  const date = typeof value === "string" || typeof value === "number" ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date.toISOString().slice(11, 23) : "--:--:--.---";
}

function shortValue(value: unknown): string {
  const text = typeof value === "string" ? (/\s/.test(value) ? JSON.stringify(value) : value) : JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

function errorText(err: unknown): string {
  if (typeof err !== "object" || err === null) return "";
  const { type, message, stack, code } = err as Record<string, unknown>;
  const head = `${typeof type === "string" ? type : "Error"}${typeof code === "string" ? ` [${code}]` : ""}: ${typeof message === "string" ? message : ""}`;
  return typeof stack === "string" ? `\n    ${stack.split("\n").join("\n    ")}` : `\n    ${head}`;
}

function parseRecord(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) && "msg" in parsed ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The line a person reads; `label` is the supervisor's instance label (payment#1). */
export function prettyLogLine(label: string, line: string, options: PrettyOptions = {}): string {
  const record = parseRecord(line);
  if (record === undefined) return `[${label}] ${line}`;
  const level = levelOf(record.level);
  const levelText = level.toUpperCase().padEnd(5);
  const shownLevel = options.colour ? `${LEVEL_COLOURS[level] ?? ""}${levelText}${RESET}` : levelText;
  const fields = Object.entries(record)
    .filter(([key, value]) => !HIDDEN_FIELDS.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${shortValue(value)}`);
  const message = typeof record.msg === "string" ? record.msg : JSON.stringify(record.msg);
  const rest = fields.length > 0 ? ` ${fields.join(" ")}` : "";
  return `${clockOf(record.time)} ${shownLevel} [${label}] ${message}${rest}${errorText(record.err)}`;
}
