/**
 * Applies a run of records of ONE partition (offset order) in one database transaction: decode all, make the
 * handlers' outside calls (prepare) before the transaction opens, then one transaction holds every first-delivery
 * inbox row (one statement), every handler's effect in offset order (so per-key order holds) and every outgoing
 * outbox row (one statement). Any failure throws and rolls everything back: the runner then retries the records
 * one by one (consumer-runner.ts), so one bad record never costs the others more than a second try.
 */
import type { Context, Span } from "@opentelemetry/api";
import type pg from "pg";
import type { SchemaRegistry } from "../avro/schema-registry.ts";
import { mapDatabaseErrors } from "../db/database-errors.ts";
import { executorOf, inTransaction, type SqlExecutor } from "../db/sql.ts";
import { isEventType, type EventType } from "../events/topic-catalogue.ts";
import type { Logger } from "../logging/create-logger.ts";
import { insertOutboxRows, type OutboxRow } from "../outbox/outbox-write.ts";
import {
  TransientError,
  type ConsumerDefinition,
  type EventEnvelope,
  type EventHandler,
  type HandlerContext,
  type PreparedHandler,
} from "./consumer-handler.ts";
import { withSpanContext } from "./consumer-span.ts";
import { alreadyDelivered, recordFirstDeliveries } from "./inbox.ts";
import { decodeRecord, type DecodedEvent, type RawRecord } from "./message-decoder.ts";
import { RunCoalescer, type CoalescerOptions } from "./run-coalescer.ts";
import { bufferedEmit } from "./transaction-context.ts";

export type MessageOutcome = "processed" | "duplicate" | "skipped" | "dead-lettered";

/** What happened to one message, for tests and metrics. */
export interface OutcomeRecord {
  outcome: MessageOutcome;
  topic: string;
  partition: number;
  offset: string;
  eventId?: string;
  eventType?: string;
  attempts: number;
}

/** One record with its process span (started by the runner, ended by it once the outcome is known). */
export interface TracedRecord {
  record: RawRecord;
  span: Span;
  context: Context;
}

type AnyHandler = EventHandler<EventType> | PreparedHandler<EventType>;

/** A decoded record whose outside call (if any) is done: what a transaction applies. */
export interface Item extends TracedRecord {
  decoded: DecodedEvent;
  envelope: EventEnvelope<never>;
  handler: AnyHandler | undefined;
  logger: Logger;
  prepared?: { value: unknown };
}

export interface BatchDeps {
  pool: pg.Pool;
  registry: SchemaRegistry;
  logger: Logger;
  definition: ConsumerDefinition;
  databaseUrl?: string;
  /** Outside calls (prepare) of one batch in flight at once. */
  prepareConcurrency: number;
}

/** What a run achieved: the outcomes of the records applied (a prefix of the run), and why the rest was not. */
export interface RunResult {
  outcomes: OutcomeRecord[];
  /**
   * Where the run stopped: it and every record after it were not applied. With `error`, the record's outside call
   * failed; without, the run was split so a later record's outside call sees an earlier one's effect.
   */
  stoppedAt?: { index: number; error?: unknown };
}

/** Runs of several partitions applied in one transaction when they are ready together (run-coalescer.ts). */
export type TransactionCoalescer = RunCoalescer<Item, OutcomeRecord>;

/** First attempts only: a retry (the careful path) always has a transaction of its own. */
export function createTransactionCoalescer(deps: BatchDeps, options: CoalescerOptions): TransactionCoalescer {
  return new RunCoalescer((items) => applyInTransaction(deps, items, 1), options);
}

/**
 * Decodes and prepares the run, then applies what can be applied in one transaction: its own, or with a
 * coalescer one shared with the runs of other partitions that are ready at the same time.
 */
export async function applyRecords(deps: BatchDeps, records: readonly TracedRecord[], attempt: number, coalescer?: TransactionCoalescer): Promise<RunResult> {
  const ticket = coalescer?.enter();
  try {
    const items = await Promise.all(records.map((traced) => toItem(deps, traced)));
    const stoppedAt = await prepareAll(deps, items, attempt);
    const applicable = stoppedAt === undefined ? items : items.slice(0, stoppedAt.index);
    let outcomes: OutcomeRecord[] = [];
    if (applicable.length > 0) outcomes = ticket ? await ticket.submit(applicable) : await applyInTransaction(deps, applicable, attempt);
    return stoppedAt === undefined ? { outcomes } : { outcomes, stoppedAt };
  } finally {
    ticket?.leave();
  }
}

/** One record, all or nothing: throws what stopped it. */
export async function applyRecord(deps: BatchDeps, record: TracedRecord, attempt: number): Promise<OutcomeRecord> {
  const result = await applyRecords(deps, [record], attempt);
  if (result.stoppedAt) throw result.stoppedAt.error; // a run of one record never splits
  return result.outcomes[0]!;
}

function applyInTransaction(deps: BatchDeps, items: readonly Item[], attempt: number): Promise<OutcomeRecord[]> {
  const group = deps.definition.group;
  return mapDatabaseErrors(
    () =>
      inTransaction(deps.pool, async (db) => {
        const handled = items.filter((item) => item.handler !== undefined);
        const fresh = await recordFirstDeliveries(
          db,
          group,
          handled.map((item) => item.decoded.eventId),
        );
        const { beginRun, finishRun } = deps.definition;
        const run = beginRun
          ? await beginRun(
              handled.filter((item) => fresh.has(item.decoded.eventId)).map((item) => item.envelope),
              db,
              group,
            )
          : undefined;
        const rows: OutboxRow[] = [];
        const outcomes: OutcomeRecord[] = [];
        for (const item of items) outcomes.push(await applyOne(item, fresh, { db, rows, group, attempt, run }));
        if (beginRun && finishRun) await finishRun(run, db);
        await insertOutboxRows(db, rows);
        return outcomes;
      }),
    deps.databaseUrl,
  );
}

async function toItem(deps: BatchDeps, traced: TracedRecord): Promise<Item> {
  const { record, span, context } = traced;
  const decoded = await withSpanContext(context, () => decodeRecord(deps.registry, record));
  span.setAttributes({ "messaging.message.id": decoded.eventId, "orderflow.event_type": decoded.eventType, "order.id": decoded.orderId });
  const handler = isEventType(decoded.eventType) ? (deps.definition.handlers[decoded.eventType] as AnyHandler | undefined) : undefined;
  const item = { ...traced, decoded, envelope: toEnvelope(record, decoded, context), handler } as Item;
  // Built on first use: most events log nothing, and a pino child serialises its bindings when created.
  let logger: Logger | undefined;
  Object.defineProperty(item, "logger", {
    get: () =>
      (logger ??= deps.logger.child({
        event_id: decoded.eventId,
        event_type: decoded.eventType,
        order_id: decoded.orderId,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
      })),
  });
  return item;
}

/**
 * Where the run must end so every prepare() sees the effects of the records before it: at the first prepared
 * record whose key already occurs earlier in the run (an OrderCancelled behind its OrderPlaced must not ask the
 * provider before the authorization is recorded). The rest becomes the next run.
 */
function splitIndex(items: readonly Item[]): number | undefined {
  const keys = new Set<string>();
  for (const [index, item] of items.entries()) {
    const key = item.record.key?.toString("utf8") ?? item.decoded.orderId;
    if (index > 0 && isPrepared(item) && keys.has(key)) return index;
    keys.add(key);
  }
  return undefined;
}

function isPrepared(item: Item): boolean {
  return item.handler !== undefined && typeof item.handler !== "function";
}

/**
 * prepare() of every prepared handler (up to the split) whose event is not applied yet, a bounded number at a
 * time. A failed call does not fail the others: the run is applied up to the first record whose call failed.
 */
async function prepareAll(deps: BatchDeps, items: Item[], attempt: number): Promise<RunResult["stoppedAt"]> {
  const split = splitIndex(items);
  const pending = items.slice(0, split).filter(isPrepared);
  const splitResult = split === undefined ? undefined : { index: split };
  if (pending.length === 0) return splitResult;
  const pool = executorOf(deps.pool);
  const seen = await mapDatabaseErrors(
    () =>
      alreadyDelivered(
        pool,
        deps.definition.group,
        pending.map((item) => item.decoded.eventId),
      ),
    deps.databaseUrl,
  );
  const todo = pending.filter((item) => !seen.has(item.decoded.eventId));
  const failures = new Map<Item, unknown>();
  for (let start = 0; start < todo.length; start += deps.prepareConcurrency) {
    await Promise.all(
      todo.slice(start, start + deps.prepareConcurrency).map(async (item) => {
        const handler = item.handler as PreparedHandler<EventType>;
        const ctx = {
          db: pool,
          get logger() {
            return item.logger;
          },
          group: deps.definition.group,
          attempt,
        };
        try {
          item.prepared = { value: await withSpanContext(item.context, () => handler.prepare(item.envelope, ctx)) };
        } catch (error) {
          failures.set(item, error);
        }
      }),
    );
  }
  const index = items.findIndex((item) => failures.has(item));
  return index === -1 ? splitResult : { index, error: failures.get(items[index]!) };
}

interface ApplyScope {
  db: SqlExecutor;
  rows: OutboxRow[];
  group: string;
  attempt: number;
  run: unknown;
}

async function applyOne(item: Item, fresh: Set<string>, scope: ApplyScope): Promise<OutcomeRecord> {
  const base = {
    topic: item.record.topic,
    partition: item.record.partition,
    offset: item.record.offset,
    attempts: scope.attempt,
    eventId: item.decoded.eventId,
    eventType: item.decoded.eventType,
  };
  const handler = item.handler;
  if (handler === undefined) return { ...base, outcome: "skipped" };
  if (!fresh.delete(item.decoded.eventId)) return { ...base, outcome: "duplicate" };
  const ctx: HandlerContext = {
    db: scope.db,
    emit: bufferedEmit(scope.rows, item.context),
    get logger() {
      return item.logger;
    },
    group: scope.group,
    attempt: scope.attempt,
    run: scope.run,
  };
  await withSpanContext(item.context, async () => {
    if (typeof handler === "function") return handler(item.envelope, ctx);
    // Its inbox row was there when prepare was skipped and is gone now (retention ran in between): try again.
    if (item.prepared === undefined) throw new TransientError("event became new after its outside call was skipped", { code: "PREPARE_SKIPPED" });
    return handler.apply(item.envelope, ctx, item.prepared.value);
  });
  return { ...base, outcome: "processed" };
}

function toEnvelope(record: RawRecord, decoded: DecodedEvent, traceContext: Context): EventEnvelope<never> {
  return {
    eventId: decoded.eventId,
    eventType: decoded.eventType as EventType,
    orderId: decoded.orderId,
    occurredAt: decoded.occurredAt,
    payload: decoded.payload as never,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key?.toString("utf8") ?? null,
    headers: record.headers,
    traceContext,
  };
}
