import { describe, expect, it } from "vitest";
import { partitionForKey } from "../shared/kafka/kafka-client.ts";
import type { Kafka, RecordMetadata, TopicMessages } from "../shared/kafka/kafka-types.ts";
import type { EncodedRow } from "./batch-plan.ts";
import { KafkaPublisher, PublishError, unacknowledgedPartitions } from "./kafka-publisher.ts";

const PARTITIONS = 6;

function ack(topicName: string, partition: number, errorCode = 0): RecordMetadata {
  return { topicName, partition, errorCode, baseOffset: "0" };
}

function encoded(id: number, key: string): EncodedRow {
  return {
    row: { id: String(id), topic: "orders", key, eventType: "OrderPlaced", eventId: `e${id}`, payload: {}, headers: {}, createdAt: new Date(0), attempts: 0 },
    value: Buffer.from("x"),
  };
}

/** Two keys on two different partitions of "orders". */
function twoPartitionKeys(): [string, string] {
  const first = "order-0";
  for (let i = 1; ; i += 1)
    if (partitionForKey("orders", `order-${i}`, PARTITIONS) !== partitionForKey("orders", first, PARTITIONS)) return [first, `order-${i}`];
}

/** A Kafka whose producer answers sendBatch with the given acks, as kafkajs does after a retry around a leader move. */
function kafkaAnswering(acks: (batches: TopicMessages[]) => RecordMetadata[]): { kafka: Kafka; disconnects: number } {
  const state = { disconnects: 0 };
  const producer = {
    connect: async () => undefined,
    disconnect: async () => {
      state.disconnects += 1;
    },
    sendBatch: async ({ topicMessages }: { topicMessages: TopicMessages[] }) => acks(topicMessages),
  };
  return {
    kafka: { producer: () => producer } as unknown as Kafka,
    get disconnects() {
      return state.disconnects;
    },
  };
}

describe("a batch's acknowledgements", () => {
  const [a, b] = twoPartitionKeys();
  const batches: TopicMessages[] = [
    {
      topic: "orders",
      messages: [
        { key: a, value: "1" },
        { key: b, value: "2" },
      ],
    },
  ];
  const pa = partitionForKey("orders", a, PARTITIONS);
  const pb = partitionForKey("orders", b, PARTITIONS);

  it("cover every partition written to, or name the ones left out", () => {
    expect(unacknowledgedPartitions(batches, [ack("orders", pa), ack("orders", pb)], PARTITIONS)).toEqual([]);
    expect(unacknowledgedPartitions(batches, [ack("orders", pa)], PARTITIONS)).toEqual([`orders/${pb}`]);
    expect(unacknowledgedPartitions(batches, [ack("orders", pa), ack("orders", pb, 6)], PARTITIONS)).toEqual([`orders/${pb}`]);
  });

  it("fail the send when kafkajs resolved without a partition, so the relay resends the batch instead of losing a row", async () => {
    const fake = kafkaAnswering((sent) => [ack(sent[0]!.topic, partitionForKey("orders", a, PARTITIONS))]);
    const publisher = new KafkaPublisher(fake.kafka, { topicName: (logical) => logical, partitions: PARTITIONS });
    const sending = publisher.send([encoded(1, a), encoded(2, b)]);
    await expect(sending).rejects.toBeInstanceOf(PublishError);
    await expect(sending).rejects.toThrow(`Kafka acknowledged no write to orders/${pb}`);
    expect(fake.disconnects).toBe(1); // replaced: the resend starts with a fresh producer id

    const whole = kafkaAnswering((sent) => [ack(sent[0]!.topic, pa), ack(sent[0]!.topic, pb)]);
    await new KafkaPublisher(whole.kafka, { topicName: (logical) => logical, partitions: PARTITIONS }).send([encoded(1, a), encoded(2, b)]);
  });
});
