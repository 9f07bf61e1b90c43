/**
 * Every check the audit makes, by code: what it proves and how serious a hit is. A "violation" fails the audit
 * (exit 1); a "notice" is listed (orders still in flight, rows not yet published) and does not.
 * `window` says what data the check can see: "all" (durable tables), "outbox" (only orders whose outbox trail is
 * still retained; published rows are deleted after OUTBOX_RETENTION_HOURS) or "kafka" (records still on the topics).
 */
export type Severity = "violation" | "notice";
export type CheckWindow = "all" | "outbox" | "kafka";

export interface CheckSpec {
  severity: Severity;
  window: CheckWindow;
  title: string;
}

export const CHECKS = {
  // Every accepted order ends CONFIRMED or CANCELLED, or is visibly in flight
  ORDER_STUCK: { severity: "violation", window: "all", title: "order PENDING for longer than the stuck threshold" },
  ORDER_IN_FLIGHT: { severity: "notice", window: "all", title: "order changed within the stuck threshold; its effects may still be arriving" },
  STATUS_HISTORY_MISMATCH: { severity: "violation", window: "all", title: "status history is not one PENDING row plus one row of the final status" },
  OUTCOME_CONTRADICTS_STATUS: { severity: "violation", window: "all", title: "recorded stock/payment outcomes do not justify the order's status" },
  // One stock outcome, stock effects applied once
  STOCK_OUTCOME_MISSING: { severity: "violation", window: "all", title: "decided order without a stock outcome" },
  RESERVATION_MISMATCH: { severity: "violation", window: "all", title: "reservations do not match the order's lines or its stock outcome" },
  RESERVATION_NOT_COMMITTED: { severity: "violation", window: "all", title: "confirmed order whose reservations are not all COMMITTED" },
  RESERVATION_NOT_RELEASED: { severity: "violation", window: "all", title: "cancelled order whose reservations are not all RELEASED" },
  // One payment outcome, money conserved
  PAYMENT_OUTCOME_MISSING: { severity: "violation", window: "all", title: "decided order without a decided payment" },
  PAYMENT_AMOUNT_MISMATCH: { severity: "violation", window: "all", title: "payment amount or currency differs from the order's total" },
  PAYMENT_CONTRADICTS_STATUS: { severity: "violation", window: "all", title: "confirmed order whose payment is not AUTHORIZED" },
  MONEY_ON_CANCELLED_ORDER: { severity: "violation", window: "all", title: "cancelled order with money still authorized (AUTHORIZED or PENDING payment)" },
  VOID_NOT_AT_PROVIDER: { severity: "violation", window: "all", title: "payment VOIDED here but no void in the provider's ledger" },
  // Notifications: one per event and channel
  NOTIFICATION_MISSING: { severity: "violation", window: "all", title: "expected notification (receipt, confirmation or cancellation) missing" },
  NOTIFICATION_DUPLICATED: { severity: "violation", window: "all", title: "more than one notification of one kind on one channel for an order" },
  NOTIFICATION_UNEXPECTED: { severity: "violation", window: "all", title: "notification that contradicts the order's status" },
  NOTIFICATION_NOT_SENT: { severity: "violation", window: "all", title: "notification not SENT" },
  ORPHAN_EFFECT: { severity: "violation", window: "all", title: "effect (reservation, payment, notification, outcome) of an order that does not exist" },
  // The outbox trail of each order (retained window only)
  EVENT_MISSING: { severity: "violation", window: "outbox", title: "order lacks an event its state implies" },
  EVENT_DUPLICATED: { severity: "violation", window: "outbox", title: "an event emitted more than once for an order" },
  EVENT_UNEXPECTED: { severity: "violation", window: "outbox", title: "an event its order's state rules out" },
  // Stock conserved per SKU
  STOCK_RESERVED_MISMATCH: { severity: "violation", window: "all", title: "stock.reserved differs from the sum of RESERVED reservations" },
  STOCK_NOT_CONSERVED: { severity: "violation", window: "all", title: "units received != available + reserved + sold" },
  STOCK_BASELINE_MISSING: { severity: "notice", window: "all", title: "no stock_received row for the SKU: conservation not checkable" },
  // Outbox -> Kafka
  OUTBOX_FAILED: { severity: "violation", window: "outbox", title: "outbox row given up on (failed_at set): its event was never published" },
  OUTBOX_UNPUBLISHED: { severity: "violation", window: "outbox", title: "outbox row unpublished for longer than the stuck threshold" },
  OUTBOX_PENDING: { severity: "notice", window: "outbox", title: "outbox row not yet published (younger than the stuck threshold)" },
  EVENT_NOT_ON_TOPIC: { severity: "violation", window: "kafka", title: "outbox row marked published whose event id is not on its topic (lost event)" },
  EVENT_OUT_OF_ORDER: { severity: "violation", window: "kafka", title: "one key's events on the topic in another order than in the outbox" },
  KEY_SPLIT_ACROSS_PARTITIONS: { severity: "violation", window: "kafka", title: "one key's events on more than one partition of a topic" },
  // Kafka -> consumers
  INBOX_GAP: { severity: "violation", window: "kafka", title: "group committed past an event it handles without an inbox row (and did not dead-letter it)" },
  EVENT_DEAD_LETTERED: { severity: "violation", window: "kafka", title: "event dead-lettered by a group and never processed since" },
  DEAD_LETTER_REPLAYED: { severity: "notice", window: "kafka", title: "dead-lettered event that the group has processed since (replayed)" },
  RECORD_WITHOUT_EVENT_ID: { severity: "notice", window: "kafka", title: "record without an event-id header (not written by the relay)" },
  KAFKA_READ_INCOMPLETE: { severity: "violation", window: "kafka", title: "the topics could not be read to their end offsets in time: Kafka checks unproven" },
} as const satisfies Record<string, CheckSpec>;

export type CheckCode = keyof typeof CHECKS;

export const CHECK_CODES = Object.keys(CHECKS) as CheckCode[];

export function isCheckCode(value: string): value is CheckCode {
  return Object.hasOwn(CHECKS, value);
}

/** One hit of a check: what it is about (an order id, a SKU, an outbox row, a topic partition) and the facts. */
export interface Finding {
  code: CheckCode;
  subject: string;
  detail: Record<string, unknown>;
}
