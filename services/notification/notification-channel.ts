import type { Logger } from "../shared/logging/create-logger.ts";

/** What to tell a customer about an order. */
export type NotificationKind = "RECEIPT" | "CONFIRMED" | "CANCELLED";

export interface OutgoingNotification {
  /**
   * Derived from the event and channel: a channel (mail API, SMS gateway) that receives the same key twice
   * delivers once, so a retry after a crash between send and commit never notifies twice.
   */
  idempotencyKey: string;
  orderId: string;
  kind: NotificationKind;
  recipient: string;
  subject: string;
  text: string;
}

export interface NotificationChannel {
  /** Stored in notifications.channel; with the event id it makes "one per event" a unique constraint. */
  readonly name: string;
  send(notification: OutgoingNotification): Promise<void>;
}

/**
 * The default channel: the notifications row (written by the consumer) is the message, and a log line stands in
 * for the delivery. A real channel (e-mail, SMS) implements the same interface and passes idempotencyKey on.
 */
export class LogChannel implements NotificationChannel {
  readonly name = "log";

  constructor(private readonly logger: Logger) {}

  async send(notification: OutgoingNotification): Promise<void> {
    this.logger.info(
      {
        channel: this.name,
        idempotency_key: notification.idempotencyKey,
        order_id: notification.orderId,
        kind: notification.kind,
        recipient: notification.recipient,
      },
      `notification: ${notification.subject}`,
    );
  }
}
