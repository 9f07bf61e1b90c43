import { randomUUID } from "node:crypto";
import { createKafka, parseBrokers } from "../../services/shared/kafka/kafka-client.ts";
import type { Kafka, KafkaMessage } from "../../services/shared/kafka/kafka-types.ts";

/** Connection details of the stack under test, from the same variables the services read. */
export function testStackEndpoints(env: NodeJS.ProcessEnv = process.env): { brokers: string[]; registryUrl: string } {
  return {
    brokers: parseBrokers(env.KAFKA_BROKERS || "127.0.0.1:9092"),
    registryUrl: env.SCHEMA_REGISTRY_URL || "http://127.0.0.1:8081/apis/ccompat/v7",
  };
}

export function createTestKafka(brokers: string[]): Kafka {
  return createKafka({ brokers, clientId: `orderflow-test-${randomUUID().slice(0, 8)}`, logLevel: "warn" });
}

export interface ConsumedMessage {
  partition: number;
  message: KafkaMessage;
}

/**
 * Reads `topic` from the beginning with a fresh consumer group until `count` messages arrived (or the bounded
 * wait ends with an error naming what did arrive).
 */
export async function consumeFromBeginning(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000): Promise<ConsumedMessage[]> {
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const received: ConsumedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${count} messages from ${topic} after ${timeoutMs / 1000}s`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            received.push({ partition, message });
            if (received.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
    return received;
  } finally {
    await consumer.disconnect();
  }
}
