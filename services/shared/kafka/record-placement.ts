/**
 * Where each record of a sendBatch landed (partition and offset). kafkajs answers a batch with one base offset per
 * topic-partition, not per record; the records of one partition go in one record batch in the order given, so the
 * n-th record a partition received has offset base + n. Which partition a record went to is what the producer's
 * partitioner returned for it: the recording partitioner below wraps the configured one and remembers its answer per
 * message object (kafkajs passes our message objects through unchanged).
 */
import kafkajs from "kafkajs";
import type { ICustomPartitioner, Message, RecordMetadata, TopicMessages } from "kafkajs";

const { Partitioners } = kafkajs;

export interface RecordPlacement {
  topic: string;
  partition: number;
  /** Kafka offsets are int64: kept as a decimal string. */
  offset: string;
}

export interface PartitionRecorder {
  /** For ProducerConfig.createPartitioner. */
  createPartitioner: ICustomPartitioner;
  partitionOf(message: Message): number | undefined;
}

/** Java-compatible murmur2 partitioning (as createProducer configures) that remembers each message's partition. */
export function recordingPartitioner(base: ICustomPartitioner = Partitioners.DefaultPartitioner): PartitionRecorder {
  const chosen = new WeakMap<Message, number>();
  return {
    createPartitioner: () => {
      const partition = base();
      return (args) => {
        const result = partition(args);
        chosen.set(args.message, result);
        return result;
      };
    },
    partitionOf: (message) => chosen.get(message),
  };
}

/**
 * The placement of every message of `batches` whose partition and base offset are known (not with acks=0, or a
 * response without baseOffset), by message object.
 */
export function placeRecords(
  batches: readonly TopicMessages[],
  metadata: readonly RecordMetadata[],
  partitionOf: (message: Message) => number | undefined,
): Map<Message, RecordPlacement> {
  const base = new Map(metadata.map((entry) => [`${entry.topicName}\u0000${entry.partition}`, entry.baseOffset]));
  const placements = new Map<Message, RecordPlacement>();
  for (const { topic, messages } of batches) {
    const seen = new Map<number, number>();
    for (const message of messages) {
      const partition = message.partition ?? partitionOf(message);
      if (partition === undefined) continue;
      const index = seen.get(partition) ?? 0;
      seen.set(partition, index + 1);
      const baseOffset = base.get(`${topic}\u0000${partition}`);
      if (baseOffset === undefined || baseOffset === "") continue;
      placements.set(message, { topic, partition, offset: (BigInt(baseOffset) + BigInt(index)).toString() });
    }
  }
  return placements;
}
