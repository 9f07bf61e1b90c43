import { CodedError } from "../shared/errors/coded-error.ts";

/** One outbox row as the relay reads it (column names in camelCase; id stays a string: it is a bigint). */
export interface OutboxRow {
  id: string;
  /** Logical topic, e.g. "orders"; the relay applies TOPIC_PREFIX. */
  topic: string;
  key: string;
  eventType: string;
  eventId: string;
  payload: unknown;
  headers: Record<string, unknown>;
  createdAt: Date;
  attempts: number;
}

/** The row itself cannot be encoded (unknown event type, payload that does not fit its schema): retrying the same
 * bytes will not help beyond a few attempts (a schema may still be deploying). */
export class PermanentEncodeError extends CodedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(
      { code: "OUTBOX_ROW_UNENCODABLE", status: 500, title: "The outbox row cannot be encoded with its schema", canRetry: false },
      { detail: message, cause: options?.cause },
    );
    this.name = "PermanentEncodeError";
  }
}

export interface EncodedRow {
  row: OutboxRow;
  value: Buffer;
}

export interface EncodeFailure {
  row: OutboxRow;
  error: string;
  /** attempts are exhausted: mark the row failed (it then holds back its key's later rows until replayed). */
  final: boolean;
}

export interface BatchPlan {
  send: EncodedRow[];
  failures: EncodeFailure[];
  /** Not sent now because an earlier row of the same key is not sendable: they wait, order kept. */
  heldBack: OutboxRow[];
}

export interface PlanOptions {
  maxAttempts: number;
  /** False while a failed row waits for its next attempt (backoff); it then holds back its key like a failure. */
  isDue?: (row: OutboxRow) => boolean;
}

/**
 * Splits a claimed batch (in id order) into what to send, what failed to encode and what must wait. Once a row of a
 * key is not sent, no later row of that key is sent in this batch: that is what keeps one order's events in order.
 * Errors other than PermanentEncodeError (e.g. the registry is unreachable) propagate: the batch is retried whole.
 */
export async function planBatch(rows: readonly OutboxRow[], encode: (row: OutboxRow) => Promise<Buffer>, options: PlanOptions): Promise<BatchPlan> {
  const plan: BatchPlan = { send: [], failures: [], heldBack: [] };
  const blocked = new Set<string>();
  for (const row of rows) {
    if (blocked.has(row.key) || (options.isDue !== undefined && !options.isDue(row))) {
      blocked.add(row.key);
      plan.heldBack.push(row);
      continue;
    }
    try {
      plan.send.push({ row, value: await encode(row) });
    } catch (error) {
      if (!(error instanceof PermanentEncodeError)) throw error;
      blocked.add(row.key);
      plan.failures.push({ row, error: error.message, final: row.attempts + 1 >= options.maxAttempts });
    }
  }
  return plan;
}
