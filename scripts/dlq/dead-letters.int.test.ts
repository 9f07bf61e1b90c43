import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PermanentError, type ConsumerDefinition } from "../../services/shared/consumer/consumer-handler.ts";
import { DLQ_HEADERS } from "../../services/shared/consumer/dead-letter.ts";
import { ConsumerTestBench, waitUntil } from "../../test/support/consumer/consumer-test-kit.ts";
import { orderPlaced } from "../../test/support/consumer/event-factory.ts";
import { readDeadLetters, replayDeadLetters, selectLetters } from "../../services/shared/consumer/dead-letter-topics.ts";

const run = promisify(execFile);
let bench: ConsumerTestBench;
const broken = new Set<string>();
const processed: string[] = [];

const definition: ConsumerDefinition = {
  group: "dlq-script-test",
  topics: ["orders"],
  handlers: {
    OrderPlaced: async (event) => {
      if (broken.has(event.orderId)) throw new PermanentError("customer unknown", { code: "UNKNOWN_CUSTOMER" });
      processed.push(event.orderId);
    },
  },
};

beforeAll(async () => {
  bench = await ConsumerTestBench.create("dlq-script");
});

afterAll(async () => {
  await bench?.close();
});

describe("npm run dlq", () => {
  it("lists dead letters with their error headers and replays them to the original topic once fixed", async () => {
    const [first, second] = [orderPlaced(), orderPlaced()];
    broken.add(first.order_id).add(second.order_id);
    const runner = await bench.startRunner(definition);
    await bench.publishMany("OrderPlaced", [first, second]);
    await runner.waitForOutcomes(2, 30_000);
    const dlqTopic = bench.topic("dlq.dlq-script-test");
    const { letters } = await readDeadLetters(bench.clients.kafka, dlqTopic);
    expect(letters).toHaveLength(2);
    expect(letters[0]!.headers).toMatchObject({
      [DLQ_HEADERS.errorCode]: "UNKNOWN_CUSTOMER",
      [DLQ_HEADERS.originalTopic]: bench.topic("orders"),
      "event-type": "OrderPlaced",
    });

    const listed = await run("npx", ["tsx", "scripts/dlq.ts", "list", "--group", "dlq-script-test"], {
      env: { ...process.env, TOPIC_PREFIX: bench.config.TOPIC_PREFIX },
      timeout: 60_000,
    });
    expect(listed.stdout).toContain(`${dlqTopic}: 2 dead letter(s)`);
    expect(listed.stdout).toContain("UNKNOWN_CUSTOMER: PermanentError: customer unknown");

    broken.clear(); // the "fix"
    const one = letters.find((l) => l.key?.toString() === first.order_id)!;
    await replayDeadLetters(bench.clients.kafka, selectLetters(letters, { all: false, offset: one.offset, partition: one.partition }));
    await waitUntil(async () => processed.includes(first.order_id), 30_000, "the replayed record to be processed");

    const replayed = await run("npx", ["tsx", "scripts/dlq.ts", "replay", "--group", "dlq-script-test", "--all"], {
      env: { ...process.env, TOPIC_PREFIX: bench.config.TOPIC_PREFIX },
      timeout: 60_000,
    });
    expect(replayed.stdout).toContain("replayed 2 dead letter(s)");
    await runner.waitForOutcomes(5, 30_000);
    // The record replayed twice was processed once: the second copy is an inbox duplicate.
    expect(processed.filter((id) => id === first.order_id)).toHaveLength(1);
    expect(processed.filter((id) => id === second.order_id)).toHaveLength(1);
    expect(
      runner.outcomes
        .slice(2)
        .map((o) => o.outcome)
        .sort(),
    ).toEqual(["duplicate", "processed", "processed"]);
  });
});
