/**
 * The audit's result: every check with its count and a few examples, the windows each family of checks could see,
 * and the verdict (ok = no violation). `--json` prints it as is; audit_runs stores it for the live page; the
 * human-readable form is formatVerdict().
 */
import { CHECK_CODES, CHECKS, type CheckCode, type CheckWindow, type Finding, type Severity } from "./audit-checks.ts";
import type { FindingRows } from "./audit-sql.ts";

export interface CheckResult {
  code: CheckCode;
  severity: Severity;
  window: CheckWindow;
  title: string;
  count: number;
  examples: Finding[];
  /** False when the check could not run (Kafka skipped or not read to its end). */
  ran: boolean;
}

export interface AuditScope {
  since: string;
  stuckAfterSeconds: number;
  orders: number;
  byStatus: Record<string, number>;
  skus: number;
}

export interface AuditWindows {
  /** Orders created since this instant still have every outbox row (OUTBOX_RETENTION_HOURS). */
  outboxTrailSince: string;
  ordersWithOutboxTrail: number;
  ordersWithoutOutboxTrail: number;
  publishedOutboxRowsChecked: number;
  /** What the inbox check assumed about inbox retention. */
  inbox: string;
}

export interface KafkaSummary {
  read: boolean;
  complete: boolean;
  topics: string[];
  partitions: number;
  records: number;
  duplicateRecords: number;
  /** Records older than the inbox retention: their inbox rows may be purged, so INBOX_GAP does not look them up. */
  beyondInboxRetention: number;
  elapsedMs: number;
  groups: Array<{ group: string; groupId: string; committedPartitions: number }>;
}

export interface AuditVerdict {
  ok: boolean;
  violations: number;
  notices: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  environment: { database: string; topicPrefix: string };
  scope: AuditScope;
  windows: AuditWindows;
  kafka: KafkaSummary;
  checks: CheckResult[];
}

/** Collects findings per code (count + the first `limit` examples) from SQL rows and from the Kafka pass. */
export class FindingSink {
  private readonly byCode = new Map<CheckCode, { count: number; examples: Finding[] }>();

  constructor(private readonly limit: number) {}

  add(code: CheckCode, subject: string, detail: Record<string, unknown>): void {
    const entry = this.entry(code);
    entry.count += 1;
    if (entry.examples.length < this.limit) entry.examples.push({ code, subject, detail });
  }

  addRows(rows: readonly FindingRows[]): void {
    for (const row of rows) {
      const entry = this.entry(row.code);
      entry.count += row.total;
      for (const example of row.examples) if (entry.examples.length < this.limit) entry.examples.push(example);
    }
  }

  count(code: CheckCode): number {
    return this.byCode.get(code)?.count ?? 0;
  }

  results(notRun: ReadonlySet<CheckCode>): CheckResult[] {
    return CHECK_CODES.map((code) => {
      const spec = CHECKS[code];
      const entry = this.byCode.get(code);
      return {
        code,
        severity: spec.severity,
        window: spec.window,
        title: spec.title,
        count: entry?.count ?? 0,
        examples: entry?.examples ?? [],
        ran: !notRun.has(code),
      };
    });
  }

  private entry(code: CheckCode): { count: number; examples: Finding[] } {
    let entry = this.byCode.get(code);
    if (!entry) {
      entry = { count: 0, examples: [] };
      this.byCode.set(code, entry);
    }
    return entry;
  }
}

export function tally(checks: readonly CheckResult[]): { violations: number; notices: number } {
  let violations = 0;
  let notices = 0;
  for (const check of checks) {
    if (check.severity === "violation") violations += check.count;
    else notices += check.count;
  }
  return { violations, notices };
}

const number = (value: number): string => value.toLocaleString("en-US");

function exampleLine(finding: Finding): string {
  const facts = Object.entries(finding.detail)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => `${name}=${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(" ");
  return `      ${finding.subject}  ${facts}`;
}

function checkBlock(check: CheckResult, mark: string, shown: number): string[] {
  const lines = [`  ${mark} ${check.code}  ${number(check.count)}  ${check.title}`];
  for (const example of check.examples.slice(0, shown)) lines.push(exampleLine(example));
  if (check.count > Math.min(shown, check.examples.length))
    lines.push(`      ... ${number(check.count - Math.min(shown, check.examples.length))} more (--json, --limit)`);
  return lines;
}

/** The verdict for people: what was audited, what each window covered, every failed check with examples. */
export function formatVerdict(verdict: AuditVerdict, shownPerCheck = 5): string {
  const { scope, windows, kafka } = verdict;
  const statuses = Object.entries(scope.byStatus)
    .map(([status, n]) => `${number(n)} ${status}`)
    .join(", ");
  const lines = [
    `Orderflow audit ${verdict.finishedAt} (${(verdict.durationMs / 1000).toFixed(1)} s): ${verdict.environment.database}, topic prefix "${verdict.environment.topicPrefix}"`,
    `scope    ${number(scope.orders)} orders since ${scope.since} (${statuses}); ${number(scope.skus)} SKUs; in flight = changed within ${scope.stuckAfterSeconds} s`,
    `windows  outbox trail for orders since ${windows.outboxTrailSince}: ${number(windows.ordersWithOutboxTrail)} orders (${number(windows.ordersWithoutOutboxTrail)} older: durable tables only); ${number(windows.publishedOutboxRowsChecked)} published outbox rows checked against Kafka; inbox: ${windows.inbox}`,
    kafka.read
      ? `kafka    ${number(kafka.records)} records (${number(kafka.duplicateRecords)} redelivered copies) on ${kafka.partitions} partitions of ${kafka.topics.length} topics in ${(kafka.elapsedMs / 1000).toFixed(1)} s${kafka.complete ? "" : " (INCOMPLETE)"}; groups ${kafka.groups.map((g) => `${g.group} (${g.committedPartitions} committed partitions)`).join(", ")}`
      : "kafka    not read (--no-kafka): Kafka checks did not run",
    "",
  ];
  const violations = verdict.checks.filter((c) => c.severity === "violation" && c.count > 0);
  const notices = verdict.checks.filter((c) => c.severity === "notice" && c.count > 0);
  lines.push(
    verdict.ok
      ? `VERDICT  OK: no violation (${number(verdict.notices)} notices)`
      : `VERDICT  FAILED: ${number(verdict.violations)} violations in ${violations.length} checks`,
  );
  for (const check of violations) lines.push(...checkBlock(check, "✗", shownPerCheck));
  for (const check of notices) lines.push(...checkBlock(check, "·", Math.min(shownPerCheck, 3)));
  const passed = verdict.checks.filter((c) => c.severity === "violation" && c.count === 0 && c.ran).map((c) => c.code);
  const skipped = verdict.checks.filter((c) => !c.ran).map((c) => c.code);
  lines.push(`  ✓ passed: ${passed.join(", ")}`);
  if (skipped.length > 0) lines.push(`  - not run: ${skipped.join(", ")}`);
  return `${lines.join("\n")}\n`;
}
