import type { Admin, Consumer, Kafka } from "kafkajs";

export interface ConsumerOptions {
  groupId: string;
  /** How long the broker holds a fetch open when there is no data: kafkajs' 5 s default adds that much latency per hop. */
  maxWaitTimeInMs: number;
  /** The broker answers a fetch once this much data is there (or maxWaitTimeInMs passed); kafkajs' default is 1. */
  minBytes?: number;
  /** The broker removes a member that has not heartbeated for this long. */
  sessionTimeoutMs: number;
  /** How often heartbeat() really sends one (kafkajs rate-limits calls to this interval). */
  heartbeatIntervalMs: number;
  /** Upper bound on a rebalance; members that do not rejoin within it are dropped. */
  rebalanceTimeoutMs?: number;
  /** Per fetch, per partition; bounds a batch's size and so the time between offset commits. */
  maxBytesPerPartition?: number;
}

/** A group consumer with the timing this pipeline needs; subscribe and run it through the shared runner. */
export function createConsumer(kafka: Kafka, options: ConsumerOptions): Consumer {
  return kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: options.maxWaitTimeInMs,
    minBytes: options.minBytes ?? 1,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    rebalanceTimeout: options.rebalanceTimeoutMs ?? Math.max(options.sessionTimeoutMs * 2, 30_000),
    maxBytesPerPartition: options.maxBytesPerPartition ?? 256 * 1024,
    // Reading a topic the group never committed on starts at the beginning: an event published before the
    // group's first start must still be processed (the inbox makes reprocessing harmless).
    allowAutoTopicCreation: false,
  });
}

/**
 * Moves a group's committed offsets of `topic` to the earliest offset (every partition), so the group reads the
 * topic again. Kafka only allows this while the group has no active members.
 */
export async function resetGroupOffsetsToEarliest(admin: Admin, groupId: string, topic: string): Promise<void> {
  await admin.resetOffsets({ groupId, topic, earliest: true });
}
