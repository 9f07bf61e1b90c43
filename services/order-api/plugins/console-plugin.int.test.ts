/**
 * The live console's routes on the real stack: the event stream (token, history on connect then increments, a
 * bounded number of streams, ended on shutdown) and the dead-letter browser (a letter a real consumer runner
 * dead-lettered, listed with its error headers; replay refused without the ops token, and a replay processed once).
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PermanentError, type ConsumerDefinition } from "../../shared/consumer/consumer-handler.ts";
import { DLQ_HEADERS } from "../../shared/consumer/dead-letter.ts";
import { readDeadLetters } from "../../shared/consumer/dead-letter-topics.ts";
import { ConsumerTestBench, waitUntil, type TestRunner } from "../../../test/support/consumer/consumer-test-kit.ts";
import { orderPlaced } from "../../../test/support/consumer/event-factory.ts";
import type { PrismaClient } from "../../shared/db/index.ts";
import type { ConsoleSample } from "../console/console-sample.ts";
import { cleanTestRows, orderBody, prepareTestDatabase, testApp, testConfig, testPrisma } from "../../../test/support/order-api/order-api-harness.ts";

const MONITOR_TOKEN = "console-monitor-token-0123456789";
const OPS_TOKEN = "console-ops-token-0123456789abcd";
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads a text/event-stream response frame by frame. */
class EventReader {
  private buffer = "";
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  ended = false;

  constructor(response: Response) {
    this.reader = response.body!.getReader();
  }

  /** The next event (comments and retry lines skipped), or undefined once the server ended the stream. */
  async next(timeoutMs = 20_000): Promise<SseEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf("\n\n");
      if (end >= 0) {
        const frame = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event !== undefined && data !== undefined) return { event, data: JSON.parse(data) };
        continue;
      }
      if (Date.now() > deadline) throw new Error(`no event within ${timeoutMs} ms`);
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), deadline - Date.now())),
      ]);
      if (chunk.done) {
        this.ended = true;
        return undefined;
      }
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  async nextOf(event: string, timeoutMs = 20_000): Promise<SseEvent> {
    for (;;) {
      const next = await this.next(timeoutMs);
      if (next === undefined) throw new Error(`stream ended before a ${event} event`);
      if (next.event === event) return next;
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel().catch(() => undefined);
  }
}

let prisma: PrismaClient;
let bench: ConsumerTestBench;
let app: FastifyInstance;
let baseUrl: string;

beforeAll(async () => {
  prisma = testPrisma();
  await prepareTestDatabase(prisma);
  bench = await ConsumerTestBench.create("console");
  const config = testConfig({ TOPIC_PREFIX: bench.config.TOPIC_PREFIX, MONITOR_TOKEN, OPS_TOKEN, CONSOLE_SAMPLE_INTERVAL_MS: "250", CONSOLE_MAX_STREAMS: "2" });
  app = await testApp({ prisma, config });
  baseUrl = await app.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await cleanTestRows(prisma);
  await app?.close();
  await bench?.close();
  await prisma?.$disconnect();
});

const stream = (headers: Record<string, string> = bearer(MONITOR_TOKEN)) =>
  fetch(`${baseUrl}/monitor/console/stream`, { headers, signal: AbortSignal.timeout(60_000) });

describe("console event stream", () => {
  it("refuses a caller without the monitor token", async () => {
    const response = await stream({});
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain("orderflow-monitor");
    expect((await stream(bearer(OPS_TOKEN))).status).toBe(401);
  });

  it("sends the history on connect, then each new sample, and a reconnecting browser gets the grown history", async () => {
    const first = new EventReader(await stream());
    const history = (await first.nextOf("history")).data as { intervalMs: number; groups: string[]; samples: ConsoleSample[] };
    expect(history.intervalMs).toBe(250);
    expect(history.groups).toEqual(["inventory", "payment", "order-state", "notification"]);
    expect((await first.nextOf("audit")).event).toBe("audit");
    const samples: ConsoleSample[] = [];
    while (samples.length < 3) samples.push((await first.nextOf("sample")).data as ConsoleSample);
    expect(samples[1]!.t).toBeGreaterThan(samples[0]!.t);
    expect(Object.keys(samples[2]!.lag).sort()).toEqual(["inventory", "notification", "order-state", "payment"]);
    expect(samples[2]!.outboxBacklog).not.toBeNull();
    await first.cancel();

    const again = new EventReader(await stream());
    const later = (await again.nextOf("history")).data as { samples: ConsoleSample[] };
    expect(later.samples.length).toBeGreaterThanOrEqual(history.samples.length + 3);
    expect(later.samples.map((s) => s.t)).toEqual([...later.samples.map((s) => s.t)].sort((a, b) => a - b));
    await again.cancel();
  });

  it("counts the orders this API places and their accept latency in the next samples", async () => {
    const reader = new EventReader(await stream());
    await reader.nextOf("history");
    for (let i = 0; i < 5; i += 1) {
      const response = await fetch(`${baseUrl}/orders`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(orderBody()) });
      expect(response.status).toBe(201);
    }
    let seen: ConsoleSample | undefined;
    for (let i = 0; i < 80 && !(seen && seen.placedPerSecond! > 0 && seen.acceptP99Ms !== null); i += 1)
      seen = (await reader.nextOf("sample")).data as ConsoleSample;
    expect(seen?.placedPerSecond).toBeGreaterThan(0);
    expect(seen?.acceptP99Ms).toBeGreaterThan(0);
    await reader.cancel();
  });

  it("holds at most CONSOLE_MAX_STREAMS open: the next one gets 503", async () => {
    const open = [new EventReader(await stream()), new EventReader(await stream())];
    await Promise.all(open.map((reader) => reader.nextOf("history")));
    const refused = await stream();
    expect(refused.status).toBe(503);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    await Promise.all(open.map((reader) => reader.cancel()));
    // A closed stream frees its place.
    await waitUntil(
      async () => {
        const response = await stream();
        if (response.status !== 200) return false;
        await response.body?.cancel();
        return true;
      },
      10_000,
      "a stream slot to be freed",
    );
  });

  it("ends every open stream when the app closes", async () => {
    const closing = await testApp({
      prisma,
      config: testConfig({ TOPIC_PREFIX: bench.config.TOPIC_PREFIX, MONITOR_TOKEN, CONSOLE_SAMPLE_INTERVAL_MS: "250" }),
    });
    const url = await closing.listen({ host: "127.0.0.1", port: 0 });
    const reader = new EventReader(await fetch(`${url}/monitor/console/stream`, { headers: bearer(MONITOR_TOKEN) }));
    await reader.nextOf("history");
    const closed = closing.close();
    for (let i = 0; i < 50 && (await reader.next(10_000)) !== undefined; i += 1);
    expect(reader.ended).toBe(true);
    await closed;
  });
});

describe("dead-letter browser", () => {
  const broken = new Set<string>();
  const processed: string[] = [];
  let runner: TestRunner;
  let poisoned: ReturnType<typeof orderPlaced>;

  const definition: ConsumerDefinition = {
    group: "inventory",
    topics: ["orders"],
    handlers: {
      OrderPlaced: async (event) => {
        if (broken.has(event.orderId)) throw new PermanentError("no such warehouse", { code: "UNKNOWN_WAREHOUSE" });
        processed.push(event.orderId);
      },
    },
  };

  beforeAll(async () => {
    poisoned = orderPlaced();
    broken.add(poisoned.order_id);
    runner = await bench.startRunner(definition);
    await bench.publish("OrderPlaced", poisoned);
    await runner.waitForOutcomes(1, 30_000);
  });

  it("lists the groups from the catalogue with their depth, and a group's letters with their error headers", async () => {
    expect((await fetch(`${baseUrl}/monitor/dead-letters/inventory`)).status).toBe(401);
    let groups: Array<{ group: string; depth: number | null }> = [];
    await waitUntil(
      async () => {
        const body = (await (await fetch(`${baseUrl}/monitor/dead-letters`, { headers: bearer(MONITOR_TOKEN) })).json()) as { groups: typeof groups };
        groups = body.groups;
        return groups.find((g) => g.group === "inventory")?.depth === 1;
      },
      15_000,
      "the inventory dead-letter depth to show 1",
    );
    expect(groups.map((g) => g.group)).toEqual(["inventory", "payment", "order-state", "notification"]);

    const response = await fetch(`${baseUrl}/monitor/dead-letters/inventory?limit=10`, { headers: bearer(MONITOR_TOKEN) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      depth: number;
      letters: Array<{ key: string; errorCode: string; errorMessage: string; originalTopic: string; headers: Record<string, string> }>;
    };
    expect(body.depth).toBe(1);
    expect(body.letters).toHaveLength(1);
    expect(body.letters[0]).toMatchObject({ key: poisoned.order_id, errorCode: "UNKNOWN_WAREHOUSE", originalTopic: bench.topic("orders") });
    expect(body.letters[0]!.errorMessage).toContain("no such warehouse");
    expect(body.letters[0]!.headers[DLQ_HEADERS.attempts]).toBeDefined();
    expect((await fetch(`${baseUrl}/monitor/dead-letters/nobody`, { headers: bearer(MONITOR_TOKEN) })).status).toBe(400);
  });

  it("replays only with the ops token; the replayed letter is processed once, a second replay is an inbox duplicate", async () => {
    const { letters } = await readDeadLetters(bench.clients.kafka, bench.topic("dlq.inventory"));
    const target = { partition: letters[0]!.partition, offset: letters[0]!.offset };
    const replay = (headers: Record<string, string>, body: unknown = target) =>
      fetch(`${baseUrl}/monitor/dead-letters/inventory/replay`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });

    expect((await replay({})).status).toBe(401);
    expect((await replay(bearer(MONITOR_TOKEN))).status).toBe(401); // the monitor token reads, it does not replay
    expect((await replay(bearer(OPS_TOKEN), { partition: target.partition, offset: "999999" })).status).toBe(404);
    expect(processed).toEqual([]);

    broken.clear(); // the "fix"
    const ok = await replay(bearer(OPS_TOKEN));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      replayed: 1,
      from: `${bench.topic("dlq.inventory")}/${target.partition}@${target.offset}`,
      to: bench.topic("orders"),
    });
    await waitUntil(async () => processed.includes(poisoned.order_id), 30_000, "the replayed record to be processed");

    expect((await replay(bearer(OPS_TOKEN))).status).toBe(200);
    await runner.waitForOutcomes(3, 30_000);
    expect(processed.filter((id) => id === poisoned.order_id)).toHaveLength(1);
    expect(runner.outcomes.map((o) => o.outcome)).toEqual(["dead-lettered", "processed", "duplicate"]);
    // Kafka is append-only: the letter stays in its topic; the browser still lists it.
    expect((await readDeadLetters(bench.clients.kafka, bench.topic("dlq.inventory"))).depth).toBe(1);
  });
});
