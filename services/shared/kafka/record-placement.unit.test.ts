import { describe, expect, it } from "vitest";
import type { Message, RecordMetadata } from "kafkajs";
import { placeRecords, recordingPartitioner } from "./record-placement.ts";

const metadata = (topicName: string, partition: number, baseOffset: string): RecordMetadata => ({ topicName, partition, errorCode: 0, baseOffset });

describe("placeRecords", () => {
  it("gives the n-th record of a partition the base offset + n, per topic", () => {
    const [a, b, c, d] = ["a", "b", "c", "d"].map((key): Message => ({ key, value: key }));
    const partitionOf = new Map<Message, number>([
      [a!, 1],
      [b!, 2],
      [c!, 1],
      [d!, 1],
    ]);
    const placed = placeRecords(
      [
        { topic: "orders", messages: [a!, b!, c!] },
        { topic: "payments", messages: [d!] },
      ],
      [metadata("orders", 1, "40"), metadata("orders", 2, "7"), metadata("payments", 1, "0")],
      (message) => partitionOf.get(message),
    );
    expect([a, b, c, d].map((m) => placed.get(m!))).toEqual([
      { topic: "orders", partition: 1, offset: "40" },
      { topic: "orders", partition: 2, offset: "7" },
      { topic: "orders", partition: 1, offset: "41" },
      { topic: "payments", partition: 1, offset: "0" },
    ]);
  });

  it("leaves out a record whose partition or base offset is unknown", () => {
    const message: Message = { key: "k", value: "v" };
    expect(placeRecords([{ topic: "orders", messages: [message] }], [], () => 3).size).toBe(0);
    expect(placeRecords([{ topic: "orders", messages: [message] }], [metadata("orders", 3, "5")], () => undefined).size).toBe(0);
  });
});

describe("recordingPartitioner", () => {
  it("partitions like the wrapped partitioner and remembers its answer per message", () => {
    const recorder = recordingPartitioner(
      () =>
        ({ message }) =>
          message.key === "x" ? 4 : 0,
    );
    const partition = recorder.createPartitioner();
    const x: Message = { key: "x", value: "1" };
    const partitionMetadata = [{ partitionId: 0, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }];
    expect(partition({ topic: "orders", partitionMetadata, message: x })).toBe(4);
    expect(recorder.partitionOf(x)).toBe(4);
    expect(recorder.partitionOf({ key: "x", value: "1" })).toBeUndefined();
  });
});
