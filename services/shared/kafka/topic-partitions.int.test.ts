import { afterAll, describe, expect, it } from "vitest";
import { testConfig, testKafka, uniquePrefix } from "../../../test/support/stack-test-kit.ts";
import { deleteTopics, ensureTopics, TopicPartitionMismatchError, withAdmin } from "./kafka-admin.ts";

const prefix = uniquePrefix("partitions");
const config = testConfig(prefix);
const kafka = testKafka(config);
const topic = `${prefix}probe`;

async function partitionsOf(name: string): Promise<number> {
  const { topics } = await withAdmin(kafka, (admin) => admin.fetchTopicMetadata({ topics: [name] }));
  return topics[0]?.partitions.length ?? 0;
}

afterAll(async () => {
  await withAdmin(kafka, (admin) => deleteTopics(admin, [topic]));
});

describe("partition count of an existing topic", () => {
  it("is never changed implicitly: a different configured count is refused, naming the topic and both counts", async () => {
    expect(await withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]))).toEqual([topic]);

    for (const configured of [6, 2]) {
      const attempt = withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic, numPartitions: configured, replicationFactor: 1 }]));
      await expect(attempt).rejects.toBeInstanceOf(TopicPartitionMismatchError);
      await expect(attempt).rejects.toMatchObject({ code: "TOPIC_PARTITION_MISMATCH", canRetry: false });
      await expect(attempt).rejects.toThrow(new RegExp(`${topic.replace(/\./g, "\\.")}.*has 3 partitions.*TOPIC_PARTITIONS.*${configured}`));
    }
    expect(await partitionsOf(topic)).toBe(3);
  });
});
