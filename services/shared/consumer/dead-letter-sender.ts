/**
 * The dead-letter publish. After any failed send the producer is replaced: a timed-out send whose batch the broker
 * had in fact appended leaves kafkajs' idempotent producer with a sequence number the broker no longer accepts,
 * and every later send through it would fail (the poison message would loop instead of leaving the partition).
 */
import { createProducer } from "../kafka/kafka-client.ts";
import type { Kafka, Message, Producer } from "../kafka/kafka-types.ts";
import type { Logger } from "../logging/create-logger.ts";

export class DeadLetterSender {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
  ) {}

  async connect(): Promise<void> {
    await this.current();
  }

  /** Sends one dead letter with acks from every in-sync replica; throws (and resets the producer) on failure. */
  async send(topic: string, message: Message): Promise<void> {
    const producer = await this.current();
    try {
      await producer.send({ topic, acks: -1, messages: [message] });
    } catch (error) {
      await this.reset(producer);
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect();
  }

  private current(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<Producer> {
    const producer = createProducer(this.kafka, { allowAutoTopicCreation: false });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async reset(failed: Producer): Promise<void> {
    if (this.producer === failed) this.producer = undefined;
    this.logger.warn("dead-letter producer replaced after a failed send");
    await failed.disconnect().catch(() => undefined);
  }
}
