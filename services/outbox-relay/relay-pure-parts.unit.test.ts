import { describe, expect, it } from "vitest";
import { backoffDelay, sleep } from "../shared/resilience/backoff.ts";
import { PermanentEncodeError, planBatch, type OutboxRow } from "./batch-plan.ts";
import { RelayMetrics } from "./relay-metrics.ts";
import { fairShare, planOwnership, shardOfKey } from "./shard-assignment.ts";
import { WakeSignal } from "./wake-signal.ts";
import { AdaptivePoll } from "./adaptive-poll.ts";
import { sessionSettings } from "./relay-sql.ts";
import { heartbeatIntervalMs } from "./shard-ownership.ts";

function row(id: number, key: string, attempts = 0): OutboxRow {
  return { id: String(id), topic: "orders", key, eventType: "OrderPlaced", eventId: `e${id}`, payload: { id }, headers: {}, createdAt: new Date(0), attempts };
}

describe("shard hashing", () => {
  it("is md5's first 4 bytes (unsigned) modulo the shard count, like the SQL twin", () => {
    // md5("abc") = 900150983cd24fb0...: 0x90015098 = 2416005272 (PostgreSQL: ('x'||left(md5('abc'),8))::bit(32)::bigint)
    expect(shardOfKey("abc", 1_000_000_007)).toBe(2416005272 % 1_000_000_007);
    expect(shardOfKey("abc", 16)).toBe(2416005272 % 16);
  });

  it("spreads uuid-like keys over every shard", () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i += 1) counts[shardOfKey(`order-${i}`, 16)]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });
});

describe("shard ownership", () => {
  it("gives every live relay a fair share that covers all shards", () => {
    expect(fairShare(16, 3)).toBe(6);
    expect(fairShare(16, 1)).toBe(16);
    expect(fairShare(16, 0)).toBe(16);
  });

  it("releases the excess when more relays joined", () => {
    const all = Array.from({ length: 16 }, (_, s) => s);
    expect(planOwnership(all, 16, 2, 0)).toEqual({ release: [8, 9, 10, 11, 12, 13, 14, 15], candidates: [] });
  });

  it("tries its rank's shards first, then the rest, and nothing it owns", () => {
    const plan = planOwnership([0], 16, 4, 1);
    expect(plan.release).toEqual([]);
    expect(plan.candidates.slice(0, 4)).toEqual([1, 5, 9, 13]);
    expect(plan.candidates).not.toContain(0);
    expect(plan.candidates).toHaveLength(15);
  });
});

describe("backoff", () => {
  it("grows exponentially, is capped and keeps at least half of the ceiling", () => {
    const policy = { initialMs: 100, maxMs: 1_000, factor: 2 };
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(30, policy, () => 1)).toBe(1_000);
    expect(backoffDelay(30, policy, () => 0)).toBe(500);
  });

  it("sleep ends early when aborted", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = sleep(10_000, controller.signal);
    controller.abort();
    await pending;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("batch planning", () => {
  const encodeAll = async (r: OutboxRow) => Buffer.from(r.id);

  it("sends every row in id order when all encode", async () => {
    const plan = await planBatch([row(1, "a"), row(2, "b"), row(3, "a")], encodeAll, { maxAttempts: 3 });
    expect(plan.send.map(({ row: r }) => r.id)).toEqual(["1", "2", "3"]);
    expect(plan.failures).toEqual([]);
  });

  it("a row that cannot be encoded holds back only the later rows of its key", async () => {
    const encode = async (r: OutboxRow) => {
      if (r.id === "2") throw new PermanentEncodeError("bad payload");
      return Buffer.from(r.id);
    };
    const plan = await planBatch([row(1, "a"), row(2, "b", 2), row(3, "a"), row(4, "b"), row(5, "c")], encode, { maxAttempts: 3 });
    expect(plan.send.map(({ row: r }) => r.id)).toEqual(["1", "3", "5"]);
    expect(plan.failures).toEqual([{ row: row(2, "b", 2), error: "bad payload", final: true }]);
    expect(plan.heldBack.map((r) => r.id)).toEqual(["4"]);
  });

  it("marks a failure final only when attempts are exhausted", async () => {
    const encode = async () => {
      throw new PermanentEncodeError("unknown schema");
    };
    const plan = await planBatch([row(1, "a", 0)], encode, { maxAttempts: 3 });
    expect(plan.failures[0]?.final).toBe(false);
  });

  it("a row waiting for its retry holds back its key", async () => {
    const plan = await planBatch([row(1, "a"), row(2, "a"), row(3, "b")], encodeAll, { maxAttempts: 3, isDue: (r) => r.id !== "1" });
    expect(plan.send.map(({ row: r }) => r.id)).toEqual(["3"]);
    expect(plan.heldBack.map((r) => r.id)).toEqual(["1", "2"]);
  });

  it("other errors (registry unreachable) fail the whole batch", async () => {
    const encode = async () => {
      throw new Error("ECONNREFUSED");
    };
    await expect(planBatch([row(1, "a")], encode, { maxAttempts: 3 })).rejects.toThrow("ECONNREFUSED");
  });
});

describe("metrics", () => {
  it("keeps a cumulative latency histogram, a rate and quantiles", () => {
    let now = 10_000;
    const metrics = new RelayMetrics(() => now);
    metrics.recordAcked([new Date(9_990), new Date(9_000), new Date(0)]);
    const histogram = metrics.createdToAcked;
    expect(histogram.count).toBe(3);
    expect(histogram.buckets.find((b) => b.le === 0.01)?.count).toBe(1);
    expect(histogram.buckets.find((b) => b.le === 1)?.count).toBe(2);
    expect(histogram.buckets.at(-1)).toEqual({ le: Number.POSITIVE_INFINITY, count: 3 });
    expect(metrics.publishRatePerSecond).toBeCloseTo(0.3);
    expect(metrics.latencyQuantile(0.5)).toBe(1);
    metrics.setBacklog(5, 1, new Date(4_000));
    expect(metrics.snapshot()).toMatchObject({ backlog: 5, failedRows: 1, oldestUnpublishedAgeSeconds: 6, publishedTotal: 3 });
    now += 20_000;
    expect(metrics.publishRatePerSecond).toBe(0);
  });
});

describe("wake signal", () => {
  it("a wake during work ends the next wait at once", async () => {
    const signal = new WakeSignal();
    signal.wake();
    const started = Date.now();
    await signal.wait(5_000);
    expect(Date.now() - started).toBeLessThan(100);
  });
});

describe("test kit's partitioner", () => {
  it("matches Kafka's murmur2 reference values", async () => {
    const { murmur2, defaultPartition } = await import("../../test/support/relay/relay-test-kit.ts");
    // Values from the Java client's UtilsTest.testMurmur2.
    expect(murmur2(Buffer.from("21"))).toBe(-973932308);
    expect(murmur2(Buffer.from("foobar"))).toBe(-790332482);
    expect(murmur2(Buffer.from("a-little-bit-long-string"))).toBe(-985981536);
    expect(murmur2(Buffer.from("a-little-bit-longer-string"))).toBe(-1486304829);
    expect(murmur2(Buffer.from("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"))).toBe(-58897971);
    expect(defaultPartition("foobar", 6)).toBe((-790332482 & 0x7fffffff) % 6);
  });
});

describe("adaptive poll", () => {
  it("claims again at once after a full batch, soon after a partial one, and backs off while idle", () => {
    const poll = new AdaptivePoll(5, 50);
    expect(poll.next(500, 500, 500)).toBe(0);
    expect(poll.next(12, 12, 500)).toBe(5);
    expect([1, 2, 3, 4, 5, 6].map(() => poll.next(0, 0, 500))).toEqual([5, 10, 20, 40, 50, 50]);
    // Rows flow again: back to the fast pace at once.
    expect(poll.next(3, 3, 500)).toBe(5);
    expect(poll.next(0, 0, 500)).toBe(5);
  });

  it("a batch that sent nothing (all held back) counts as idle", () => {
    const poll = new AdaptivePoll(5, 50);
    expect([poll.next(500, 0, 500), poll.next(500, 0, 500)]).toEqual([5, 10]);
  });
});

describe("relay session liveness", () => {
  it("beats well inside the lease, at most every second", () => {
    expect(heartbeatIntervalMs(15_000)).toBe(1_000);
    expect(heartbeatIntervalMs(3_000)).toBe(600);
    expect(heartbeatIntervalMs(1_000)).toBe(200);
  });

  it("sizes the server-side keepalives from the lease, so a dead host's session closes within about the lease", () => {
    const settings = sessionSettings({ connectionString: "postgresql://x", connectTimeoutMs: 1, statementTimeoutMs: 1, memberLeaseMs: 15_000 });
    expect(settings).toBe(
      "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 -c client_connection_check_interval=5s -c synchronous_commit=off",
    );
  });
});
