// Every SQL statement of the relay lives here (as pg-boss keeps its SQL in one module): the advisory-lock
// session, the claim/mark transaction, failures, retention and the metrics queries.
import pg from "pg";
import { CodedError } from "../shared/errors/coded-error.ts";
import type { OutboxRow } from "./batch-plan.ts";
import { shardOfKeySql } from "./shard-assignment.ts";

/** First key of the relay's two-int advisory locks; the second key is the shard number or the member's pid. */
export const SHARD_LOCK_NAMESPACE = 0x4f52_0001;
export const MEMBER_LOCK_NAMESPACE = 0x4f52_0002;

/** A relay statement failed (database down, timeout, session killed); says which one. Retried after backoff. */
export class RelaySqlError extends CodedError {
  readonly statement: string;
  constructor(statement: string, cause: unknown) {
    super(
      { code: "RELAY_DATABASE_UNAVAILABLE", status: 503, title: "The outbox relay's database statement failed", canRetry: true },
      { detail: `outbox relay SQL "${statement}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause, context: { statement } },
    );
    this.name = "RelaySqlError";
    this.statement = statement;
  }
}

export interface RelaySqlOptions {
  connectionString: string;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  /** Unique per relay instance, so the others can find every session of a frozen one. */
  applicationName?: string;
  /** Silence after which the other relays count this one as dead (RELAY_MEMBER_LEASE_MS); sizes the keepalives. */
  memberLeaseMs?: number;
}

type Queryable = Pick<pg.ClientBase, "query">;

async function run<R extends pg.QueryResultRow>(db: Queryable, name: string, text: string, values: unknown[] = []): Promise<R[]> {
  try {
    return (await db.query<R>({ text, values })).rows;
  } catch (error) {
    throw new RelaySqlError(name, error);
  }
}

/**
 * Server-side settings of every relay session. TCP keepalives from the server end a session whose host died without
 * closing its socket (power loss) within about the member lease instead of Linux's 2 h 11 min;
 * client_connection_check_interval notices a gone client during a long statement; no relay session may sit in a
 * transaction or a statement for ever. synchronous_commit=off: a mark lost in a database crash only means those rows
 * are sent again (at-least-once, consumers dedupe), and the relay stops waiting for a WAL flush per batch.
 */
export function sessionSettings(options: RelaySqlOptions): string {
  const leaseSeconds = Math.max(3, Math.round((options.memberLeaseMs ?? 15_000) / 1000));
  const settings = {
    tcp_keepalives_idle: Math.max(1, Math.floor(leaseSeconds / 3)),
    tcp_keepalives_interval: Math.max(1, Math.floor(leaseSeconds / 6)),
    tcp_keepalives_count: 3,
    client_connection_check_interval: `${Math.max(1, Math.floor(leaseSeconds / 3))}s`,
    synchronous_commit: "off",
  };
  return Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(" ");
}

function clientConfig(options: RelaySqlOptions): pg.ClientConfig {
  return {
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    idle_in_transaction_session_timeout: options.statementTimeoutMs,
    // query_timeout bounds the wait client-side too (a dead server never answers).
    query_timeout: options.statementTimeoutMs + 1_000,
    application_name: options.applicationName ?? "outbox-relay",
    options: sessionSettings(options),
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
  /** Epoch milliseconds: pg parses a float far cheaper than a timestamptz text. */
  created_ms: number;
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
    createdAt: new Date(db.created_ms),
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
  const rows = await run<{ pid: number }>(session, "join members", "SELECT pg_backend_pid() AS pid, pg_advisory_lock($1::int, pg_backend_pid())", [
    MEMBER_LOCK_NAMESPACE,
  ]);
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

/** A statement on the lock session: keeps its state_change fresh, which is what the others read as its heartbeat. */
export async function heartbeat(session: Queryable): Promise<void> {
  await run(session, "heartbeat", "SELECT 1");
}

/** Instance-unique application_name of every session of one relay (see reapStaleMembers). */
export const RELAY_APPLICATION_PREFIX = "outbox-relay/";

/**
 * Disconnects relay members whose lock session has been idle longer than the lease (a frozen or dead host: a live
 * relay beats every second), together with the other sessions of that relay instance (same instance-unique
 * application_name). Their shard locks go with the session. Returns the pids of the member sessions it ended.
 */
export async function reapStaleMembers(session: Queryable, leaseMs: number): Promise<number[]> {
  const rows = await run<{ pid: number; member: boolean }>(
    session,
    "reap stale members",
    `WITH stale AS (
       SELECT a.pid, a.application_name
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = $1::int::oid
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.pid <> pg_backend_pid() AND a.state = 'idle'
          AND a.state_change < clock_timestamp() - make_interval(secs => $2::float8 / 1000))
     SELECT a.pid, a.pid IN (SELECT pid FROM stale) AS member, pg_terminate_backend(a.pid) AS ended
       FROM pg_stat_activity a
      WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
        AND (a.pid IN (SELECT pid FROM stale)
             OR a.application_name IN (SELECT application_name FROM stale WHERE starts_with(application_name, $3)))`,
    [MEMBER_LOCK_NAMESPACE, leaseMs, RELAY_APPLICATION_PREFIX],
  );
  return rows.filter((row) => row.member).map((row) => row.pid);
}

// No FOR UPDATE: the shard's advisory lock makes this relay its only reader, and no row lock is held across a send.
// No "id > last seen" cursor either: a row whose transaction commits after higher ids were read must still be found.
const CLAIM_SQL = `
SELECT o.id::text AS id, o.topic, o.key, o.event_type, o.event_id::text AS event_id, o.payload, o.headers,
       (extract(epoch FROM o.created_at) * 1000)::float8 AS created_ms, o.attempts
  FROM outbox o
 WHERE o.published_at IS NULL AND o.failed_at IS NULL
   AND ${shardOfKeySql("o.key", "$1::int")} = ANY($2::int[])
   AND (o.id > $6::bigint OR o.id <> ALL(string_to_array($4::text, ',')::bigint[]))
   AND o.key <> ALL($5::text[])
   AND NOT EXISTS (SELECT 1 FROM outbox f
                    WHERE f.key = o.key AND f.published_at IS NULL AND f.failed_at IS NOT NULL AND f.id < o.id)
 ORDER BY o.id
 LIMIT $3`;

export interface ClaimFilter {
  /** Rows already claimed and not yet marked (the batch being sent): not claimed twice. */
  excludeIds: readonly string[];
  /** Keys held back (a row waits for its retry, or was held back in the batch before): none of their rows. */
  excludeKeys: readonly string[];
}

/**
 * The oldest unpublished rows of the given shards in id order, skipping the excluded rows and keys. Rows behind a
 * failed row of the same key are skipped too: a failed row holds back only its own order.
 */
export async function claimBatch(db: Queryable, shardCount: number, shards: readonly number[], limit: number, filter: ClaimFilter): Promise<OutboxRow[]> {
  // Ids travel as one comma-separated text (not a pg array literal built element by element): cheaper on both sides.
  // Most candidates lie above every excluded id, which the first test of the OR settles without the list.
  const maxExcluded = filter.excludeIds.reduce((max, id) => (BigInt(id) > max ? BigInt(id) : max), 0n);
  const rows = await run<DbOutboxRow>(db, "claim batch", CLAIM_SQL, [
    shardCount,
    shards,
    limit,
    filter.excludeIds.join(","),
    filter.excludeKeys,
    maxExcluded.toString(),
  ]);
  return rows.map(toRow);
}

/**
 * One timestamp for the whole mark (statement_timestamp, not clock_timestamp, which differs row by row in heap
 * order): a key's rows then read back in publish order by (published_at, id). Each row also gets the partition and
 * offset Kafka gave it (placements[i] for ids[i]; -1 travels as "unknown" and stores NULL), for the order timeline.
 * Three comma-separated texts rather than arrays: the same cheap encoding as the claim's excluded ids.
 */
export async function markPublished(
  session: Queryable,
  ids: readonly string[],
  placements: ReadonlyArray<{ partition: number; offset: string } | undefined> = [],
): Promise<void> {
  if (ids.length === 0) return;
  await run(
    session,
    "mark published",
    `UPDATE outbox o SET published_at = statement_timestamp(), attempts = o.attempts + 1,
            kafka_partition = nullif(m.partition, -1), kafka_offset = nullif(m.kafka_offset, -1)
       FROM unnest(string_to_array($1::text, ',')::bigint[], string_to_array($2::text, ',')::int[], string_to_array($3::text, ',')::bigint[])
            AS m(id, partition, kafka_offset)
      WHERE o.id = m.id`,
    [ids.join(","), ids.map((_, i) => placements[i]?.partition ?? -1).join(","), ids.map((_, i) => placements[i]?.offset ?? "-1").join(",")],
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
