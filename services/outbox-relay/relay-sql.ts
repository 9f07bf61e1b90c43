// Every SQL statement of the relay lives here (as pg-boss keeps its SQL in one module): the advisory-lock
// session, the claim/mark transaction, failures, retention and the metrics queries.
import pg from "pg";
import type { OutboxRow } from "./batch-plan.ts";
import { shardOfKeySql } from "./shard-assignment.ts";

/** First key of the relay's two-int advisory locks; the second key is the shard number or the member's pid. */
export const SHARD_LOCK_NAMESPACE = 0x4f52_0001;
export const MEMBER_LOCK_NAMESPACE = 0x4f52_0002;

/** A relay statement failed; says which one. */
export class RelaySqlError extends Error {
  readonly statement: string;
  constructor(statement: string, cause: unknown) {
    super(`outbox relay SQL "${statement}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "RelaySqlError";
    this.statement = statement;
  }
}

export interface RelaySqlOptions {
  connectionString: string;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  applicationName?: string;
}

type Queryable = Pick<pg.ClientBase, "query">;

async function run<R extends pg.QueryResultRow>(db: Queryable, name: string, text: string, values: unknown[] = []): Promise<R[]> {
  try {
    return (await db.query<R>({ text, values })).rows;
  } catch (error) {
    throw new RelaySqlError(name, error);
  }
}

function clientConfig(options: RelaySqlOptions): pg.ClientConfig {
  return {
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    // query_timeout bounds the wait client-side too (a dead server never answers).
    query_timeout: options.statementTimeoutMs + 1_000,
    application_name: options.applicationName ?? "outbox-relay",
    keepAlive: true,
  };
}

/** A pg connection whose loss is reported instead of crashing the process (pg emits "error" on idle clients). */
export async function connectSession(options: RelaySqlOptions, onError: (error: Error) => void): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(options));
  client.on("error", onError);
  try {
    await client.connect();
  } catch (error) {
    throw new RelaySqlError("connect", error);
  }
  return client;
}

export function createPool(options: RelaySqlOptions, max: number, onError: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(options), max, idleTimeoutMillis: 30_000 });
  pool.on("error", onError);
  return pool;
}

interface DbOutboxRow {
  id: string;
  topic: string;
  key: string;
  event_type: string;
  event_id: string;
  payload: unknown;
  headers: Record<string, unknown> | null;
  created_at: Date;
  attempts: number;
}

function toRow(db: DbOutboxRow): OutboxRow {
  return {
    id: db.id,
    topic: db.topic,
    key: db.key,
    eventType: db.event_type,
    eventId: db.event_id,
    payload: db.payload,
    headers: db.headers ?? {},
    createdAt: db.created_at,
    attempts: db.attempts,
  };
}

/** Session-level lock: held until unlocked or the connection ends (so a crashed relay frees its shards). */
export async function tryLockShard(session: Queryable, shard: number): Promise<boolean> {
  const rows = await run<{ ok: boolean }>(session, "try lock shard", "SELECT pg_try_advisory_lock($1::int, $2::int) AS ok", [SHARD_LOCK_NAMESPACE, shard]);
  return rows[0]?.ok === true;
}

export async function unlockShard(session: Queryable, shard: number): Promise<void> {
  await run(session, "unlock shard", "SELECT pg_advisory_unlock($1::int, $2::int)", [SHARD_LOCK_NAMESPACE, shard]);
}

/** Announces this session as a live relay (a lock keyed by its backend pid) so the others can count members. */
export async function joinMembers(session: Queryable): Promise<number> {
  const rows = await run<{ pid: number }>(
    session,
    "join members",
    "SELECT pg_backend_pid() AS pid, pg_advisory_lock($1::int, pg_backend_pid())",
    [MEMBER_LOCK_NAMESPACE],
  );
  return rows[0]?.pid ?? 0;
}

export interface Membership {
  members: number;
  /** This session's position among the members by pid (0-based), to spread first choices of shards. */
  rank: number;
}

export async function readMembership(session: Queryable): Promise<Membership> {
  const rows = await run<{ members: string; rank: string }>(
    session,
    "read membership",
    `SELECT count(*) AS members, count(*) FILTER (WHERE objid::bigint < pg_backend_pid()) AS rank
       FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1::int::oid
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [MEMBER_LOCK_NAMESPACE],
  );
  return { members: Number(rows[0]?.members ?? 1), rank: Number(rows[0]?.rank ?? 0) };
}

const CLAIM_SQL = `
SELECT o.id::text AS id, o.topic, o.key, o.event_type, o.event_id::text AS event_id, o.payload, o.headers, o.created_at, o.attempts
  FROM outbox o
 WHERE o.published_at IS NULL AND o.failed_at IS NULL
   AND ${shardOfKeySql("o.key", "$1::int")} = ANY($2::int[])
   AND NOT EXISTS (SELECT 1 FROM outbox f
                    WHERE f.key = o.key AND f.published_at IS NULL AND f.failed_at IS NOT NULL AND f.id < o.id)
 ORDER BY o.id
 LIMIT $3
   FOR UPDATE OF o`;

/**
 * Opens the claim transaction and returns the oldest unpublished rows of the given shards in id order. Rows behind a
 * failed row of the same key are skipped: a failed row holds back only its own order.
 */
export async function beginClaim(session: Queryable, shardCount: number, shards: readonly number[], limit: number): Promise<OutboxRow[]> {
  await run(session, "begin", "BEGIN");
  try {
    return (await run<DbOutboxRow>(session, "claim batch", CLAIM_SQL, [shardCount, shards, limit])).map(toRow);
  } catch (error) {
    await rollback(session);
    throw error;
  }
}

export async function markPublished(session: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await run(
    session,
    "mark published",
    "UPDATE outbox SET published_at = clock_timestamp(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])",
    [ids],
  );
}

export async function recordEncodeFailure(session: Queryable, id: string, error: string, final: boolean): Promise<void> {
  await run(
    session,
    "record encode failure",
    `UPDATE outbox SET attempts = attempts + 1, last_error = left($2, 2000),
            failed_at = CASE WHEN $3::boolean THEN clock_timestamp() ELSE NULL END
      WHERE id = $1::bigint`,
    [id, error, final],
  );
}

export async function commit(session: Queryable): Promise<void> {
  await run(session, "commit", "COMMIT");
}

/** Never throws: used on error paths where the connection may already be gone. */
export async function rollback(session: Queryable): Promise<void> {
  try {
    await session.query("ROLLBACK");
  } catch {
    // the session is broken; the server rolls back when it notices
  }
}

/** Deletes up to `limit` published rows created before the retention cutoff; returns how many went. */
export async function deleteExpired(db: Queryable, retentionHours: number, limit: number): Promise<number> {
  const rows = await run<{ deleted: string }>(
    db,
    "delete expired",
    `WITH expired AS (
       SELECT id FROM outbox
        WHERE created_at < now() - make_interval(hours => $1::int) AND published_at IS NOT NULL
        ORDER BY created_at LIMIT $2)
     , gone AS (DELETE FROM outbox o USING expired e WHERE o.id = e.id RETURNING 1)
     SELECT count(*) AS deleted FROM gone`,
    [retentionHours, limit],
  );
  return Number(rows[0]?.deleted ?? 0);
}

export interface BacklogStats {
  /** Unpublished rows still to send (failed rows excluded). */
  backlog: number;
  failed: number;
  oldestUnpublishedAt: Date | null;
}

export async function readBacklog(db: Queryable): Promise<BacklogStats> {
  const rows = await run<{ backlog: string; failed: string; oldest: Date | null }>(
    db,
    "read backlog",
    `SELECT count(*) FILTER (WHERE failed_at IS NULL) AS backlog,
            count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed,
            min(created_at) FILTER (WHERE failed_at IS NULL) AS oldest
       FROM outbox WHERE published_at IS NULL`,
  );
  const row = rows[0];
  return { backlog: Number(row?.backlog ?? 0), failed: Number(row?.failed ?? 0), oldestUnpublishedAt: row?.oldest ?? null };
}

/** Channel of the optional insert trigger (see docs/outbox-relay.md: measured, not installed by default). */
export const NOTIFY_CHANNEL = "outbox_inserted";

export async function listen(session: Queryable): Promise<void> {
  await run(session, "listen", `LISTEN ${NOTIFY_CHANNEL}`);
}

/** Statement-level trigger: one NOTIFY per inserting statement (not per row); identical payloads are folded. */
export async function installNotifyTrigger(db: Queryable): Promise<void> {
  await run(
    db,
    "install notify trigger",
    `CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN PERFORM pg_notify('${NOTIFY_CHANNEL}', ''); RETURN NULL; END $$;
     DROP TRIGGER IF EXISTS outbox_notify ON outbox;
     CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();`,
  );
}

export async function dropNotifyTrigger(db: Queryable): Promise<void> {
  await run(db, "drop notify trigger", "DROP TRIGGER IF EXISTS outbox_notify ON outbox; DROP FUNCTION IF EXISTS outbox_notify();");
}
