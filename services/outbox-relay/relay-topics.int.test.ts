import { afterAll, describe, expect, it } from "vitest";
import { allTopicNames } from "../shared/events/topic-catalogue.ts";
import { deleteTopics, TopicPartitionMismatchError, withAdmin } from "../shared/kafka/kafka-admin.ts";
import { createLogger } from "../shared/logging/create-logger.ts";
import { assembleRelay } from "./relay-setup.ts";
import { testConfig, testKafka, uniquePrefix } from "../../test/support/stack-test-kit.ts";

const prefix = uniquePrefix("relay-partitions");
const config = testConfig(prefix, { TOPIC_PARTITIONS: "3" });
const kafka = testKafka(config);

async function partitionsOf(name: string): Promise<number> {
  const { topics } = await withAdmin(kafka, (admin) => admin.fetchTopicMetadata({ topics: [name] }));
  return topics[0]?.partitions.length ?? 0;
}

afterAll(async () => {
  await withAdmin(kafka, (admin) => deleteTopics(admin, allTopicNames(config)));
});

describe("relay start with another TOPIC_PARTITIONS than the event topics have", () => {
  it("is refused at once, naming the topic, and no partition is added", async () => {
    const logger = createLogger({ service: "relay-test", level: "silent" });
    const first = await assembleRelay(config, logger); // creates every event topic with 3 partitions
    await first.relay.stop();
    const startedAt = Date.now();
    const attempt = assembleRelay({ ...config, TOPIC_PARTITIONS: 6 }, logger);
    await expect(attempt).rejects.toBeInstanceOf(TopicPartitionMismatchError);
    await expect(attempt).rejects.toThrow(`topic ${prefix}orders has 3 partitions, TOPIC_PARTITIONS is 6`);
    // Refused at once, not after the topic-readiness wait.
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    expect(await partitionsOf(`${prefix}orders`)).toBe(3);
  });
});
