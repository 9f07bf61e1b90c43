import type { Prisma, PrismaClient } from "../../shared/db/index.ts";
import { IdempotencyKeyInFlightError, IdempotencyKeyReusedError } from "../order-errors.ts";

/** The first answer to a key, replayed verbatim for a retry with the same request. */
export interface StoredResponse {
  status: number;
  body: Prisma.InputJsonValue;
  headers: Record<string, string>;
}

export type ClaimResult = { kind: "claimed" } | { kind: "replay"; response: StoredResponse };

export interface ClaimRequest {
  key: string;
  requestHash: string;
  ttlSeconds: number;
  /**
   * An in-flight claim older than this is an abandoned one (the process died or the database failed before the
   * claim could be released): it is taken over instead of answering 409 until the key expires.
   */
  inFlightLeaseMs: number;
  now?: Date;
}

// Each pass either claims, decides, or removes one expired/vanished row; three passes cover every interleaving.
const MAX_CLAIM_PASSES = 3;

function toStoredResponse(row: { responseStatus: number | null; responseBody: unknown; responseHeaders: unknown }): StoredResponse {
  return {
    status: row.responseStatus ?? 200,
    body: (row.responseBody ?? null) as Prisma.InputJsonValue,
    headers: (row.responseHeaders ?? {}) as Record<string, string>,
  };
}

/**
 * Claims `key` for this request BEFORE the work starts, with one INSERT ... ON CONFLICT DO NOTHING (atomic: of
 * many concurrent requests exactly one inserts). Losers see the existing row: another body -> 422, finished ->
 * replay, still running -> 409. Expired rows count as absent and are deleted on the way.
 */
export async function claimIdempotencyKey(prisma: PrismaClient, request: ClaimRequest): Promise<ClaimResult> {
  for (let pass = 0; pass < MAX_CLAIM_PASSES; pass++) {
    const now = request.now ?? new Date();
    const inserted = await prisma.idempotencyKey.createMany({
      data: [{ key: request.key, requestHash: request.requestHash, status: "IN_FLIGHT", createdAt: now, expiresAt: new Date(now.getTime() + request.ttlSeconds * 1000) }],
      skipDuplicates: true,
    });
    if (inserted.count === 1) return { kind: "claimed" };

    const existing = await prisma.idempotencyKey.findUnique({ where: { key: request.key } });
    if (!existing) continue;
    if (existing.expiresAt <= now) {
      await prisma.idempotencyKey.deleteMany({ where: { key: request.key, expiresAt: { lte: now } } });
      continue;
    }
    if (existing.requestHash !== request.requestHash) {
      throw new IdempotencyKeyReusedError({ detail: "This Idempotency-Key was first used with another request body; use a new key", context: { idempotencyKey: request.key } });
    }
    if (existing.status === "COMPLETED") return { kind: "replay", response: toStoredResponse(existing) };
    if (await takeOverAbandoned(prisma, request, now)) return { kind: "claimed" };
    throw new IdempotencyKeyInFlightError({ detail: "The first request with this Idempotency-Key has not finished; retry later", context: { idempotencyKey: request.key } });
  }
  throw new IdempotencyKeyInFlightError({ detail: "The Idempotency-Key is contended; retry later", context: { idempotencyKey: request.key } });
}

/** A conditional UPDATE, so only one of several retries can take over the same abandoned claim. */
async function takeOverAbandoned(prisma: PrismaClient, request: ClaimRequest, now: Date): Promise<boolean> {
  const staleBefore = new Date(now.getTime() - request.inFlightLeaseMs);
  const taken = await prisma.idempotencyKey.updateMany({
    where: { key: request.key, requestHash: request.requestHash, status: "IN_FLIGHT", createdAt: { lt: staleBefore } },
    data: { createdAt: now },
  });
  return taken.count === 1;
}

/** Inside the order's transaction: the key completes if and only if the order commits. */
export async function completeIdempotencyKey(tx: Prisma.TransactionClient, key: string, requestHash: string, response: StoredResponse): Promise<void> {
  await tx.idempotencyKey.updateMany({
    where: { key, requestHash, status: "IN_FLIGHT" },
    data: { status: "COMPLETED", responseStatus: response.status, responseBody: response.body, responseHeaders: response.headers },
  });
}

/** After a failed attempt: frees the key so the client's retry runs the work again. */
export async function releaseIdempotencyKey(prisma: PrismaClient, key: string, requestHash: string): Promise<void> {
  await prisma.idempotencyKey.deleteMany({ where: { key, requestHash, status: "IN_FLIGHT" } });
}

/** Deletes expired keys (completed or abandoned); returns how many. */
export async function purgeExpiredIdempotencyKeys(prisma: PrismaClient, now = new Date()): Promise<number> {
  const { count } = await prisma.idempotencyKey.deleteMany({ where: { expiresAt: { lte: now } } });
  return count;
}
