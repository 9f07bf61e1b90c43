/** One sample line of the Prometheus text format 0.0.4. */
export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PrometheusFamily {
  name: string;
  type: string;
  help: string;
  samples: PrometheusSample[];
}

/** A line that is not valid exposition format, with its number. */
export class PrometheusParseError extends Error {
  constructor(
    readonly lineNumber: number,
    readonly line: string,
    reason: string,
  ) {
    super(`line ${lineNumber}: ${reason}: ${line.slice(0, 200)}`);
    this.name = "PrometheusParseError";
  }
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+-?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseLabels(text: string, lineNumber: number, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const match = LABEL.exec(text);
    if (!match || match.index !== start) throw new PrometheusParseError(lineNumber, line, "malformed labels");
    labels[match[1]!] = match[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
  }
  return labels;
}

function parseValue(text: string, lineNumber: number, line: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  const value = Number(text);
  if (text === "" || Number.isNaN(value)) throw new PrometheusParseError(lineNumber, line, "value is not a number");
  return value;
}

/** The family a sample belongs to: histogram/summary samples carry _bucket/_sum/_count suffixes. */
function familyOf(sample: string, families: Map<string, PrometheusFamily>): PrometheusFamily | undefined {
  if (families.has(sample)) return families.get(sample);
  const base = sample.replace(/_(bucket|sum|count|total)$/, "");
  return families.get(base);
}

/**
 * Strict parser of the text exposition format: every line is a comment, a HELP/TYPE line or a sample of a family
 * declared by a TYPE line before it; anything else throws PrometheusParseError.
 */
export function parsePrometheusText(text: string): Map<string, PrometheusFamily> {
  const families = new Map<string, PrometheusFamily>();
  text.split("\n").forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim() === "") return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!new RegExp(`^${NAME}$`).test(name)) throw new PrometheusParseError(lineNumber, line, "bad metric name");
      const family = families.get(name) ?? { name, type: "untyped", help: "", samples: [] };
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new PrometheusParseError(lineNumber, line, "unknown type");
        family.type = rest;
      } else family.help = rest;
      families.set(name, family);
      return;
    }
    if (line.startsWith("#")) return;
    const sample = SAMPLE.exec(line);
    if (!sample) throw new PrometheusParseError(lineNumber, line, "not a sample line");
    const family = familyOf(sample[1]!, families);
    if (!family) throw new PrometheusParseError(lineNumber, line, "sample without a TYPE line");
    family.samples.push({ name: sample[1]!, labels: parseLabels(sample[2] ?? "", lineNumber, line), value: parseValue(sample[3]!, lineNumber, line) });
  });
  return families;
}
