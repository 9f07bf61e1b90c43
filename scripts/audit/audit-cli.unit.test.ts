import { describe, expect, it } from "vitest";
import { CHECK_CODES } from "./audit-checks.ts";
import { AuditUsageError, describeFailure, parseAuditArgs, parseSince } from "./audit.ts";
import { FindingSink, formatVerdict, tally, type AuditVerdict } from "./verdict.ts";

describe("audit arguments", () => {
  const now = new Date("2026-12-02T08:00:00Z");

  it("reads --since as an age or an ISO time, and everything when absent", () => {
    expect(parseSince("90s", now).toISOString()).toBe("2026-12-02T07:58:30.000Z");
    expect(parseSince("2h", now).toISOString()).toBe("2026-12-02T06:00:00.000Z");
    expect(parseSince("7d", now).toISOString()).toBe("2026-11-25T08:00:00.000Z");
    expect(parseSince("2026-12-01T10:00:00Z").toISOString()).toBe("2026-12-01T10:00:00.000Z");
    expect(parseSince(undefined).getTime()).toBe(0);
  });

  it("refuses what it cannot read, naming the option", () => {
    for (const bad of ["yesterday", "2h30m", "12", "2026-13-45"]) expect(() => parseSince(bad)).toThrow(AuditUsageError);
    expect(() => parseAuditArgs(["--limit", "ten"], {})).toThrow(/--limit ten/);
    expect(() => parseAuditArgs(["--bogus"], {})).toThrow();
  });

  it("takes its defaults from the environment the services use", () => {
    const { options, json, record } = parseAuditArgs(["--json", "--no-record", "--no-kafka"], {
      TOPIC_PREFIX: "t.",
      MONITOR_STUCK_AFTER_SECONDS: "30",
      OUTBOX_RETENTION_HOURS: "5",
    });
    expect({
      json,
      record,
      kafka: options.kafka,
      prefix: options.topicPrefix,
      stuck: options.stuckAfterSeconds,
      retention: options.outboxRetentionHours,
    }).toEqual({
      json: true,
      record: false,
      kafka: false,
      prefix: "t.",
      stuck: 30,
      retention: 5,
    });
  });

  it("names the broken dependency and the fix", () => {
    const options = { databaseUrl: "postgresql://u:secret@127.0.0.1:5432/db", kafkaBrokers: "127.0.0.1:9092" };
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    expect(describeFailure(refused, options)).toMatch(/PostgreSQL \(postgresql:\/\/\*\*\*@127\.0\.0\.1:5432\/db\) failed.*npm run stack -- status/);
    expect(describeFailure(refused, options)).not.toContain("secret");
    expect(describeFailure(Object.assign(new Error("Connection error"), { name: "KafkaJSConnectionError" }), options)).toMatch(
      /Kafka at 127\.0\.0\.1:9092 failed.*--no-kafka/,
    );
    expect(describeFailure(Object.assign(new Error('relation "audit_runs" does not exist'), { code: "42P01" }), options)).toMatch(/npm run db:migrate/);
  });
});

describe("the verdict", () => {
  it("counts every finding but keeps only `limit` examples, and only violations fail it", () => {
    const sink = new FindingSink(2);
    for (let i = 0; i < 5; i += 1) sink.add("ORDER_STUCK", `order-${i}`, { ageSeconds: 100 + i });
    sink.add("ORDER_IN_FLIGHT", "order-9", {});
    sink.addRows([{ code: "ORDER_STUCK", total: 10, examples: [{ code: "ORDER_STUCK", subject: "order-x", detail: {} }] }]);
    const checks = sink.results(new Set(["INBOX_GAP"]));
    expect(checks.map((c) => c.code)).toEqual(CHECK_CODES);
    const stuck = checks.find((c) => c.code === "ORDER_STUCK");
    expect(stuck?.count).toBe(15);
    expect(stuck?.examples.map((e) => e.subject)).toEqual(["order-0", "order-1"]);
    expect(checks.find((c) => c.code === "INBOX_GAP")?.ran).toBe(false);
    expect(tally(checks)).toEqual({ violations: 15, notices: 1 });
  });

  it("prints failed checks with examples, notices, what passed and what did not run", () => {
    const sink = new FindingSink(5);
    sink.add("MONEY_ON_CANCELLED_ORDER", "0f0f", { payment: "AUTHORIZED", amountMinor: 2490 });
    const checks = sink.results(new Set(["EVENT_NOT_ON_TOPIC"]));
    const verdict: AuditVerdict = {
      ok: false,
      violations: 1,
      notices: 0,
      startedAt: "2026-12-02T08:00:00.000Z",
      finishedAt: "2026-12-02T08:00:01.000Z",
      durationMs: 1000,
      environment: { database: "127.0.0.1:5432/orderflow", topicPrefix: "" },
      scope: { since: "1970-01-01T00:00:00.000Z", stuckAfterSeconds: 60, orders: 3, byStatus: { PENDING: 0, CONFIRMED: 2, CANCELLED: 1 }, skus: 2 },
      windows: {
        outboxTrailSince: "2026-11-29T08:00:00.000Z",
        ordersWithOutboxTrail: 3,
        ordersWithoutOutboxTrail: 0,
        publishedOutboxRowsChecked: 0,
        inbox: "complete",
      },
      kafka: { read: false, complete: false, topics: [], partitions: 0, records: 0, duplicateRecords: 0, beyondInboxRetention: 0, elapsedMs: 0, groups: [] },
      checks,
    };
    const text = formatVerdict(verdict);
    expect(text).toContain("VERDICT  FAILED: 1 violations in 1 checks");
    expect(text).toContain("✗ MONEY_ON_CANCELLED_ORDER  1");
    expect(text).toContain("0f0f  payment=AUTHORIZED amountMinor=2490");
    expect(text).toMatch(/✓ passed: ORDER_STUCK, /);
    expect(text).toContain("- not run: EVENT_NOT_ON_TOPIC");
    expect(text).toContain("kafka    not read (--no-kafka)");
  });
});
