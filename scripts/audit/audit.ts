/**
 * `npm run audit [-- options]`: reconciles the database and Kafka and prints a verdict (docs/audit.md).
 * Exit 0: no violation; 1: violations (listed); 2: bad usage or a dependency that cannot be reached.
 *
 *   --json              the verdict as JSON (what audit_runs stores and the live page shows)
 *   --since <when>      only orders and rows created since: ISO time or an age such as 90s, 15m, 2h, 7d (default: all)
 *   --stuck-after <s>   seconds after which a PENDING order is stuck and missing effects are violations
 *                       (default MONITOR_STUCK_AFTER_SECONDS)
 *   --limit <n>         examples kept per check (default 20)
 *   --no-kafka          database checks only
 *   --kafka-timeout <s> bound on reading the topics (default 120)
 *   --no-record         do not store the verdict in audit_runs
 * Database, brokers, TOPIC_PREFIX, OUTBOX_RETENTION_HOURS and INBOX_RETENTION_HOURS come from the usual environment variables.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../../services/shared/config/load-config.ts";
import { isMainModule } from "../db/db-paths.ts";
import { recordAuditVerdict, runAudit, type AuditOptions } from "./run-audit.ts";
import { formatVerdict } from "./verdict.ts";

export class AuditUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuditUsageError";
  }
}

const AGE = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "2h" -> two hours before now; an ISO timestamp as is; nothing -> the epoch (everything). */
export function parseSince(value: string | undefined, now = new Date()): Date {
  if (value === undefined) return new Date(0);
  const age = AGE.exec(value);
  if (age) return new Date(now.getTime() - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS]);
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(at.getTime()))
    throw new AuditUsageError(`--since ${value}: use an ISO time (2026-12-02T08:00:00Z) or an age (90s, 15m, 2h, 7d)`);
  return at;
}

function nonNegativeInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new AuditUsageError(`--${name} ${value}: expected a whole number`);
  return Number(value);
}

export interface CliChoices {
  options: AuditOptions;
  json: boolean;
  record: boolean;
}

export function parseAuditArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliChoices {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: "boolean", default: false },
      since: { type: "string" },
      "stuck-after": { type: "string" },
      limit: { type: "string" },
      "no-kafka": { type: "boolean", default: false },
      "kafka-timeout": { type: "string" },
      "no-record": { type: "boolean", default: false },
    },
  });
  const config = loadConfig(env);
  return {
    json: values.json ?? false,
    record: !(values["no-record"] ?? false),
    options: {
      databaseUrl: config.DATABASE_URL,
      kafkaBrokers: config.KAFKA_BROKERS,
      topicPrefix: config.TOPIC_PREFIX,
      since: parseSince(values.since),
      stuckAfterSeconds: nonNegativeInteger("stuck-after", values["stuck-after"], config.MONITOR_STUCK_AFTER_SECONDS),
      outboxRetentionHours: config.OUTBOX_RETENTION_HOURS,
      inboxRetentionHours: config.INBOX_RETENTION_HOURS,
      limit: Math.max(1, nonNegativeInteger("limit", values.limit, 20)),
      kafka: !(values["no-kafka"] ?? false),
      kafkaTimeoutMs: nonNegativeInteger("kafka-timeout", values["kafka-timeout"], 120) * 1_000,
      statementTimeoutMs: Math.max(config.DATABASE_STATEMENT_TIMEOUT_MS, 60_000),
    },
  };
}

/** A dependency failure as a sentence naming it and the fix, instead of a stack trace. */
export function describeFailure(error: unknown, options: Pick<AuditOptions, "databaseUrl" | "kafkaBrokers">): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const name = error instanceof Error ? error.name : "";
  if (name.startsWith("Kafka") || /broker|kafka/i.test(message)) {
    return `audit: Kafka at ${options.kafkaBrokers} failed: ${message}. Is it up? npm run stack -- status (KAFKA_BROKERS moves it); --no-kafka audits the database alone.`;
  }
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "28P01" || code === "3D000" || /connect|terminat/i.test(message)) {
    return `audit: PostgreSQL (${options.databaseUrl.replace(/\/\/[^@]*@/, "//***@")}) failed: ${message}. Is it up? npm run stack -- status (DATABASE_URL moves it).`;
  }
  if (code === "42P01") return `audit: ${message}: the database is not migrated to this version; run npm run db:migrate.`;
  return `audit failed: ${error instanceof Error ? (error.stack ?? message) : message}`;
}

async function main(): Promise<number> {
  let choices: CliChoices;
  try {
    choices = parseAuditArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  try {
    const verdict = await runAudit(choices.options);
    if (choices.record) await recordAuditVerdict(choices.options.databaseUrl, verdict);
    process.stdout.write(choices.json ? `${JSON.stringify(verdict, null, 2)}\n` : formatVerdict(verdict));
    return verdict.ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`${describeFailure(error, choices.options)}\n`);
    return 2;
  }
}

if (isMainModule(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`audit failed: ${String(error)}\n`);
      process.exit(2);
    },
  );
}
