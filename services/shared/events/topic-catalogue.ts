import type { AppConfig } from "../config/config-schema.ts";
import { topicName } from "../config/load-config.ts";

/**
 * The logical topic of every event type: all events of one aggregate family share a topic keyed by order id, so
 * one order's events of that family keep their order on one partition. TOPIC_PREFIX is applied by topicName().
 */
export const EVENT_TOPICS = {
  OrderPlaced: "orders",
  OrderConfirmed: "orders",
  OrderCancelled: "orders",
  StockReserved: "inventory",
  StockRejected: "inventory",
  StockReleased: "inventory",
  PaymentAuthorized: "payments",
  PaymentDeclined: "payments",
  PaymentVoided: "payments",
} as const;

export type EventType = keyof typeof EVENT_TOPICS;
export type EventTopic = (typeof EVENT_TOPICS)[EventType];

export const EVENT_TOPIC_NAMES: readonly EventTopic[] = ["orders", "inventory", "payments"];

/** The pipeline's consumer groups (docs/design.md "Flow"), by logical name; TOPIC_PREFIX applies to their Kafka ids. */
export const CONSUMER_GROUPS = ["inventory", "payment", "order-state", "notification"] as const;
export type ConsumerGroup = (typeof CONSUMER_GROUPS)[number];

/** One dead-letter topic per consumer group (poison messages of that group, error in headers). */
export type DlqTopic = `dlq.${ConsumerGroup}`;
export const DLQ_TOPICS: readonly DlqTopic[] = CONSUMER_GROUPS.map((group) => deadLetterTopicOf(group));

/** The logical dead-letter topic of a group. */
export function deadLetterTopicOf(group: ConsumerGroup): DlqTopic {
  return `dlq.${group}`;
}

/** Every logical topic the system writes to: what the relay provisions at start. */
export const ALL_LOGICAL_TOPICS: readonly string[] = [...EVENT_TOPIC_NAMES, ...DLQ_TOPICS];

/** Namespace of every event record in schemas/*.avsc. */
export const EVENT_NAMESPACE = "orderflow.events";

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_TOPICS, value);
}

/** The logical topic of an event type, or undefined for a type this build does not know. */
export function logicalTopicOf(eventType: string): EventTopic | undefined {
  return isEventType(eventType) ? EVENT_TOPICS[eventType] : undefined;
}

/** Full topic names (with TOPIC_PREFIX) of every topic, for provisioning. */
export function allTopicNames(config: Pick<AppConfig, "TOPIC_PREFIX">): string[] {
  return ALL_LOGICAL_TOPICS.map((logical) => topicName(config, logical));
}
