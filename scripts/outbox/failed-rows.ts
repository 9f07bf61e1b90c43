// Outbox rows the relay gave up on (failed_at set after RELAY_MAX_ENCODE_ATTEMPTS): what `npm run outbox` lists and
// retries, usable from tests. A failed row holds back the later rows of its key, so each one is an order whose
// events stopped flowing until someone fixes the cause (a schema, a payload) and retries it.
import type pg from "pg";
import { defineError } from "../../services/shared/errors/coded-error.ts";

/** Bad CLI input, or a row to retry that is not a failed row; the message is meant for the operator. */
export const OutboxCommandError = defineError({ code: "OUTBOX_COMMAND_INVALID", status: 400, title: "The outbox command is not valid", canRetry: false });

export interface FailedRow {
  id: string;
  key: string;
  topic: string;
  eventType: string;
  attempts: number;
  lastError: string | null;
  failedAt: Date;
  createdAt: Date;
  /** Later unpublished rows of the same key that wait behind this one. */
  heldBack: number;
}

type Queryable = Pick<pg.ClientBase, "query">;

export async function listFailedRows(db: Queryable, limit = 100): Promise<FailedRow[]> {
  const { rows } = await db.query<{
    id: string;
    key: string;
    topic: string;
    event_type: string;
    attempts: number;
    last_error: string | null;
    failed_at: Date;
    created_at: Date;
    held_back: string;
  }>(
    `SELECT f.id::text, f.key, f.topic, f.event_type, f.attempts, f.last_error, f.failed_at, f.created_at,
            (SELECT count(*) FROM outbox o WHERE o.key = f.key AND o.published_at IS NULL AND o.id > f.id) AS held_back
       FROM outbox f
      WHERE f.published_at IS NULL AND f.failed_at IS NOT NULL
      ORDER BY f.id
      LIMIT $1`,
    [limit],
  );
  return rows.map((row) => ({
    id: row.id,
    key: row.key,
    topic: row.topic,
    eventType: row.event_type,
    attempts: row.attempts,
    lastError: row.last_error,
    failedAt: row.failed_at,
    createdAt: row.created_at,
    heldBack: Number(row.held_back),
  }));
}

export function describeFailedRow(row: FailedRow): string {
  return [
    `#${row.id} ${row.eventType} on ${row.topic}, key ${row.key}`,
    `  failed at ${row.failedAt.toISOString()} after ${row.attempts} attempt(s); ${row.heldBack} later row(s) of this key wait behind it`,
    `  error: ${row.lastError ?? "(none recorded)"}`,
  ].join("\n");
}

/**
 * Gives failed rows back to the relay: failed_at and attempts are cleared (last_error stays until the next attempt
 * overwrites it), so the relay tries again with a full set of attempts, in id order, before the rows held behind.
 * `id` retries one row and fails if it is not a failed row; `all` retries every one. Returns how many were reset.
 */
export async function retryFailedRows(db: Queryable, selection: { id: string } | { all: true }): Promise<number> {
  const id = "id" in selection ? selection.id : null;
  if (id !== null && !/^[0-9]{1,19}$/.test(id)) throw new OutboxCommandError({ detail: `--id must be an outbox row id (digits), got "${id}"` });
  const { rowCount } = await db.query(
    `UPDATE outbox SET failed_at = NULL, attempts = 0
      WHERE published_at IS NULL AND failed_at IS NOT NULL AND ($1::bigint IS NULL OR id = $1::bigint)`,
    [id],
  );
  if (id !== null && rowCount === 0) throw new OutboxCommandError({ detail: `outbox row ${id} is not a failed row (missing, published, or not failed)` });
  return rowCount ?? 0;
}
