// `npm run bench:relay`: the relay's drain rate on a 100,000-row backlog beside a raw kafkajs producer sending the
// same encoded records (same batch size, acks=-1, idempotent) in the same run, then created->acked latency at a
// steady 1,000 rows/s with each wake-up mode (poll vs LISTEN/NOTIFY), and what the NOTIFY trigger costs inserts.
// Writes bench-results/relay.json. Needs the stack (npm run stack -- up) and a migrated DATABASE_URL.
// The relay runs in its own process (relay-process.ts); the completion check here counts the pending rows of the
// inserted id range through the relay's own partial index, one small query, never a 20,000-key array.
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createSchemaRegistry } from "../../services/shared/avro/schema-registry.ts";
import { topicName } from "../../services/shared/config/load-config.ts";
import { loadEventSchemas } from "../../services/shared/events/event-schemas.ts";
import { registerEventSchemas } from "../../services/shared/events/schema-registration.ts";
import { createProducer } from "../../services/shared/kafka/kafka-client.ts";
import { dropNotifyTrigger, installNotifyTrigger } from "../../services/outbox-relay/relay-sql.ts";
import { testConfig, testKafka, testPool, uniquePrefix, waitUntil } from "../../test/support/stack-test-kit.ts";
import { deleteKeys, insertOutbox, makeEvents, type TestEvent } from "../../test/support/relay/relay-test-kit.ts";

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const STEADY_RATE = 1_000;
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 20);
const pool = testPool();
const allKeys: string[] = [];

function log(line: string): void {
  process.stderr.write(`  bench     ${line}\n`);
}

/** Lowest and highest outbox id of the rows a phase inserted. */
class IdRange {
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  add(ids: Map<string, bigint>): void {
    for (const id of ids.values()) {
      this.min = Math.min(this.min, Number(id));
      this.max = Math.max(this.max, Number(id));
    }
  }
}

/** Rows of the range still waiting: a range scan of outbox_pending_id_idx, whatever the number of rows. */
async function unpublishedCount(range: IdRange): Promise<number> {
  if (range.max < range.min) return 0;
  const { rows } = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM outbox WHERE id BETWEEN $1 AND $2 AND published_at IS NULL AND failed_at IS NULL",
    [range.min, range.max],
  );
  return Number(rows[0]?.n ?? 0);
}

interface RelayStopped {
  published: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The relay under test in its own process (relay-process.ts), configured like testConfig(prefix, extra). */
class RelayProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async fork(prefix: string, extra: Record<string, string>): Promise<RelayProcess> {
    const env = { ...process.env, DATABASE_URL: testConfig(prefix).DATABASE_URL, TOPIC_PREFIX: prefix, LOG_LEVEL: "warn", OTEL_SDK_DISABLED: "true", ...extra };
    const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "relay-process.ts");
    const child = fork(script, [], { env, execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const relay = new RelayProcess(child);
    await relay.reply("ready", 60_000);
    return relay;
  }

  private reply<T>(type: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the relay process did not answer "${type}" within ${timeoutMs / 1000} s`)), timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`the relay process exited (${code}) before "${type}"`));
      };
      this.child.once("exit", onExit);
      this.child.on("message", function onMessage(this: ChildProcess, message: { type: string } & T) {
        if (message.type !== type) return;
        clearTimeout(timer);
        this.off("message", onMessage);
        this.off("exit", onExit);
        resolve(message);
      });
    });
  }

  async start(): Promise<void> {
    this.child.send({ type: "start" });
    await this.reply("started", 60_000);
  }

  async stop(): Promise<RelayStopped> {
    this.child.send({ type: "stop" });
    return this.reply<RelayStopped>("stopped", 60_000);
  }
}

function keysOf(events: readonly TestEvent[]): string[] {
  return [...new Set(events.map((e) => e.key))];
}

async function relayDrain(): Promise<{ rows: number; seconds: number; rowsPerSecond: number }> {
  const config = testConfig(uniquePrefix("bench-drain"));
  const events = makeEvents(BACKLOG / 5, 5);
  const keys = keysOf(events);
  allKeys.push(...keys);
  log(`inserting a backlog of ${events.length} rows`);
  const range = new IdRange();
  range.add(await insertOutbox(pool, events, { chunk: 5_000 }));
  const relay = await RelayProcess.fork(config.TOPIC_PREFIX, { RELAY_BATCH_SIZE: String(BATCH) });
  const startedAt = performance.now();
  await relay.start();
  await waitUntil(async () => (await unpublishedCount(range)) === 0, 600_000, "the backlog to drain", 50);
  const seconds = (performance.now() - startedAt) / 1000;
  await relay.stop();
  return { rows: events.length, seconds, rowsPerSecond: events.length / seconds };
}

async function rawProducer(): Promise<{ rows: number; seconds: number; rowsPerSecond: number }> {
  const config = testConfig(uniquePrefix("bench-raw"));
  const registry = createSchemaRegistry(config.SCHEMA_REGISTRY_URL);
  const registered = await registerEventSchemas({ url: config.SCHEMA_REGISTRY_URL }, registry, config, loadEventSchemas());
  const schemaId = registered.get("OrderPlaced")!.id;
  const events = makeEvents(BACKLOG / 5, 5);
  const encoded = await Promise.all(
    events.map(async (e) => ({
      key: e.key,
      value: await registry.encode(schemaId, e.payload),
      headers: { "event-type": "OrderPlaced", "event-id": e.eventId },
    })),
  );
  const kafka = testKafka(config);
  const { provisionTopics } = await import("../../services/outbox-relay/relay-setup.ts");
  await provisionTopics(kafka, config);
  const producer = createProducer(kafka, { allowAutoTopicCreation: false });
  await producer.connect();
  const topic = topicName(config, "orders");
  const startedAt = performance.now();
  for (let start = 0; start < encoded.length; start += BATCH) {
    await producer.sendBatch({ topicMessages: [{ topic, messages: encoded.slice(start, start + BATCH) }], acks: -1, timeout: 10_000 });
  }
  const seconds = (performance.now() - startedAt) / 1000;
  await producer.disconnect();
  return { rows: events.length, seconds, rowsPerSecond: events.length / seconds };
}

/** Inserts single-event transactions at `rate` rows/s for `seconds` (like the API: one outbox row per commit). */
async function steadyLoad(wakeup: "poll" | "notify"): Promise<{ wakeup: string; rows: number; p50Ms: number; p99Ms: number; maxMs: number }> {
  const prefix = uniquePrefix(`bench-steady-${wakeup}`);
  if (wakeup === "notify") await installNotifyTrigger(pool);
  const relay = await RelayProcess.fork(prefix, { RELAY_WAKEUP: wakeup });
  await relay.start();
  const range = new IdRange();
  const total = STEADY_RATE * STEADY_SECONDS;
  const events = makeEvents(total / 5, 5);
  allKeys.push(...keysOf(events));
  const tickMs = 10;
  const perTick = (STEADY_RATE * tickMs) / 1000;
  const writers = testPool(16);
  const startedAt = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let tick = 0; tick * perTick < total; tick += 1) {
    const due = startedAt + tick * tickMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (const event of events.slice(tick * perTick, (tick + 1) * perTick)) {
      const insert: Promise<unknown> = insertOutbox(writers, [event])
        .then((ids) => range.add(ids))
        .finally(() => inFlight.delete(insert));
      inFlight.add(insert);
    }
    // Bounded: if the database falls behind, the load generator waits instead of queueing without limit.
    while (inFlight.size > 200) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await writers.end();
  await waitUntil(async () => (await unpublishedCount(range)) === 0, 120_000, "the steady load to drain", 50);
  const stopped = await relay.stop();
  if (wakeup === "notify") await dropNotifyTrigger(pool);
  return { wakeup, rows: stopped.published, p50Ms: stopped.p50Ms, p99Ms: stopped.p99Ms, maxMs: stopped.maxMs };
}

/** Single-row insert transactions from 16 concurrent clients for a few seconds, with or without the NOTIFY trigger. */
async function insertThroughput(withTrigger: boolean): Promise<{ trigger: boolean; insertsPerSecond: number }> {
  if (withTrigger) await installNotifyTrigger(pool);
  const seconds = 5;
  const clients = 16;
  const bench = testPool();
  const until = performance.now() + seconds * 1000;
  let count = 0;
  const keys: string[] = [];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const [event] = makeEvents(1, 1);
        keys.push(event!.key);
        await insertOutbox(bench, [event!], { eventType: "OrderPlaced", topic: "bench-none" });
        count += 1;
      }
    }),
  );
  await bench.end();
  if (withTrigger) await dropNotifyTrigger(pool);
  await deleteKeys(pool, keys);
  return { trigger: withTrigger, insertsPerSecond: Math.round(count / seconds) };
}

/** The two partial indexes docs/outbox-relay.md asks for (BENCH_WITH_INDEXES=1 creates them for this run only). */
async function withClaimIndexes<T>(work: () => Promise<T>): Promise<T> {
  if (process.env.BENCH_WITH_INDEXES !== "1") return work();
  await pool.query("CREATE INDEX IF NOT EXISTS bench_outbox_pending_id_idx ON outbox (id) WHERE published_at IS NULL AND failed_at IS NULL");
  await pool.query("CREATE INDEX IF NOT EXISTS bench_outbox_failed_key_idx ON outbox (key, id) WHERE published_at IS NULL AND failed_at IS NOT NULL");
  try {
    return await work();
  } finally {
    await pool.query("DROP INDEX IF EXISTS bench_outbox_pending_id_idx; DROP INDEX IF EXISTS bench_outbox_failed_key_idx");
  }
}

async function main(): Promise<void> {
  await withClaimIndexes(run);
}

async function run(): Promise<void> {
  const relay = await relayDrain();
  log(`relay drained ${relay.rows} rows in ${relay.seconds.toFixed(1)} s (${Math.round(relay.rowsPerSecond)} rows/s)`);
  const raw = await rawProducer();
  log(`raw producer sent ${raw.rows} rows in ${raw.seconds.toFixed(1)} s (${Math.round(raw.rowsPerSecond)} rows/s)`);
  const steady = [await steadyLoad("poll"), await steadyLoad("notify")];
  for (const s of steady) log(`steady ${STEADY_RATE}/s, ${s.wakeup}: p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms`);
  const inserts = [await insertThroughput(false), await insertThroughput(true)];
  for (const i of inserts) log(`single-row insert tx, 16 clients, trigger ${i.trigger}: ${i.insertsPerSecond}/s`);
  const result = {
    at: new Date().toISOString(),
    claimIndexes: process.env.BENCH_WITH_INDEXES === "1",
    batchSize: BATCH,
    drain: { relay, rawProducer: raw, ratio: Math.round((relay.rowsPerSecond / raw.rowsPerSecond) * 1000) / 1000 },
    steady: { rateRowsPerSecond: STEADY_RATE, seconds: STEADY_SECONDS, results: steady },
    insertCostOfNotifyTrigger: inserts,
  };
  const out = path.resolve("bench-results", process.env.BENCH_WITH_INDEXES === "1" ? "relay-with-claim-indexes.json" : "relay.json");
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

main()
  .catch((error: unknown) => {
    console.error(`bench:relay failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await deleteKeys(pool, allKeys).catch(() => undefined);
    await pool.end();
  });
