import type { PrismaClient } from "../../shared/db/index.ts";

/** The newest `npm run audit` verdict as the console shows it: when, pass/fail, and the count of each kind. */
export interface AuditSummary {
  id: string;
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  violations: number;
  notices: number;
  /** Every check of that run: code, severity ("violation" | "notice"), count, and whether it ran. */
  checks: Array<{ code: string; severity: string; count: number; ran: boolean; title: string }>;
}

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The verdict column is the JSON `npm run audit -- --json` prints (scripts/audit/verdict.ts). It is read
 * defensively: a run recorded by an older or newer audit still shows its pass/fail and whatever checks it names.
 */
export function summariseVerdict(row: { id: bigint; startedAt: Date; finishedAt: Date; ok: boolean; violations: number; verdict: unknown }): AuditSummary {
  const verdict = isObject(row.verdict) ? row.verdict : {};
  const checks = Array.isArray(verdict.checks) ? verdict.checks.filter(isObject) : [];
  return {
    id: row.id.toString(),
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt.toISOString(),
    ok: row.ok,
    violations: row.violations,
    notices: typeof verdict.notices === "number" ? verdict.notices : 0,
    checks: checks.map((check) => ({
      code: String(check.code ?? "?"),
      severity: String(check.severity ?? "violation"),
      count: typeof check.count === "number" ? check.count : 0,
      ran: check.ran !== false,
      title: String(check.title ?? ""),
    })),
  };
}

/** audit_runs' newest row (its finished_at index), or null when no audit ever ran against this database. */
export async function readLastAudit(prisma: PrismaClient): Promise<AuditSummary | null> {
  const row = await prisma.auditRun.findFirst({ orderBy: [{ finishedAt: "desc" }, { id: "desc" }] });
  return row ? summariseVerdict(row) : null;
}
