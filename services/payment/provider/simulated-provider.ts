import { withTimeout } from "../../shared/resilience/with-timeout.ts";
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { sql, type SqlExecutor } from "../../shared/db/sql.ts";
import { PermanentError } from "../../shared/consumer/consumer-handler.ts";
import { DependencyUnavailableError } from "../../shared/errors/dependency-errors.ts";
import { decide, type DeclineRules } from "./decline-rules.ts";
import type { AuthorizeRequest, AuthorizeResult, PaymentGateway, VoidRequest, VoidResult } from "./payment-gateway.ts";

export interface SimulatedProviderOptions {
  /**
   * The provider's own storage (provider_ledger), on a pool of its own: its writes commit on their own, outside
   * the caller's transaction, exactly like a remote provider's would. Plain SQL, one statement per call: through
   * Prisma this was a quarter of the payment service's CPU.
   */
  ledger: SqlExecutor;
  rules: DeclineRules;
  /** Mean simulated network latency per call; each call waits between half and 1.5 times this. */
  latencyMs: number;
  /** Share of calls (0..1) that fail like a flaky network; half of them after the provider acted (lost answer). */
  transientErrorRate: number;
  /** Bound on one call; beyond it the call counts as a transient failure. */
  timeoutMs: number;
  /** Test seam for the randomness of latency and failures. */
  random?: () => number;
}

interface LedgerRow {
  operation: string;
  requestHash: string;
  providerPaymentId: string;
  outcome: string;
  declineReason: string | null;
}

/** The provider's id for a payment: derived from the idempotency key, so the same key always names the same payment. */
export function providerPaymentIdFor(authorizeIdempotencyKey: string): string {
  return `sim_pay_${createHash("sha256").update(authorizeIdempotencyKey).digest("hex").slice(0, 24)}`;
}

function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

/**
 * A payment provider simulated in-process: latency, decline rules, transient failures, and an idempotency ledger
 * that survives restarts. A key used again with other parameters is refused, as real providers do.
 */
export class SimulatedPaymentProvider implements PaymentGateway {
  private readonly random: () => number;

  constructor(private readonly options: SimulatedProviderOptions) {
    this.random = options.random ?? Math.random;
  }

  async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    const providerPaymentId = providerPaymentIdFor(request.idempotencyKey);
    const decision = decide(this.options.rules, request);
    const row = await this.call("authorize", request.idempotencyKey, {
      operation: "authorize",
      requestHash: hashOf([request.orderId, request.customerId, request.amountMinor, request.currency]),
      providerPaymentId,
      outcome: decision.outcome,
      declineReason: decision.outcome === "declined" ? decision.reason : null,
      amountMinor: BigInt(request.amountMinor),
      currency: request.currency,
    });
    if (row.outcome === "declined") return { outcome: "declined", providerPaymentId: row.providerPaymentId, reason: row.declineReason ?? "declined" };
    if (row.outcome === "pending") return { outcome: "pending", providerPaymentId: row.providerPaymentId };
    return { outcome: "authorized", providerPaymentId: row.providerPaymentId };
  }

  async void(request: VoidRequest): Promise<VoidResult> {
    const [authorization] = await this.options.ledger.rows<{ amount_minor: string; currency: string }>(sql`
      SELECT amount_minor, currency FROM provider_ledger WHERE provider_payment_id = ${request.providerPaymentId} AND operation = 'authorize' LIMIT 1`);
    if (!authorization) throw new PermanentError(`the provider knows no payment ${request.providerPaymentId}`, { code: "UNKNOWN_PROVIDER_PAYMENT" });
    const row = await this.call("void", request.idempotencyKey, {
      operation: "void",
      requestHash: hashOf([request.providerPaymentId]),
      providerPaymentId: request.providerPaymentId,
      outcome: "voided",
      declineReason: null,
      amountMinor: BigInt(authorization.amount_minor),
      currency: authorization.currency,
    });
    return { outcome: "voided", providerPaymentId: row.providerPaymentId };
  }

  /** One simulated remote call: latency, maybe a failure, the ledger's first answer for the key. */
  private async call(operation: string, idempotencyKey: string, entry: LedgerRow & { amountMinor: bigint; currency: string }): Promise<LedgerRow> {
    const work = async (): Promise<LedgerRow> => {
      await this.networkDelay();
      const failure = this.random() < this.options.transientErrorRate ? (this.random() < 0.5 ? "before" : "after") : undefined;
      if (failure === "before")
        throw new DependencyUnavailableError("payment-provider", `simulated provider: ${operation} failed (the provider answered 503)`, {
          code: "PROVIDER_UNAVAILABLE",
        });
      const row = await this.record(idempotencyKey, entry);
      if (failure === "after")
        throw new DependencyUnavailableError("payment-provider", `simulated provider: ${operation} answer lost (timeout after the provider acted)`, {
          code: "PROVIDER_UNAVAILABLE",
        });
      return row;
    };
    const message = `simulated provider: ${operation} timed out after ${this.options.timeoutMs} ms`;
    return withTimeout(work(), this.options.timeoutMs, () => new DependencyUnavailableError("payment-provider", message, { code: "PROVIDER_TIMEOUT" }));
  }

  /** First write wins; a repeated key returns the stored answer, a reused key with other parameters is refused. */
  private async record(idempotencyKey: string, entry: LedgerRow & { amountMinor: bigint; currency: string }): Promise<LedgerRow> {
    // The insert, or the row a first call stored (a concurrent first call's insert is visible once it committed).
    const [row] = await this.options.ledger.rows<{
      operation: string;
      request_hash: string;
      provider_payment_id: string;
      outcome: string;
      decline_reason: string | null;
    }>(sql`
      WITH inserted AS (
        INSERT INTO provider_ledger (idempotency_key, operation, request_hash, provider_payment_id, outcome, decline_reason, amount_minor, currency)
        VALUES (${idempotencyKey}, ${entry.operation}, ${entry.requestHash}, ${entry.providerPaymentId}, ${entry.outcome}, ${entry.declineReason}, ${entry.amountMinor.toString()}::bigint, ${entry.currency})
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING operation, request_hash, provider_payment_id, outcome, decline_reason)
      SELECT * FROM inserted
      UNION ALL
      SELECT operation, request_hash, provider_payment_id, outcome, decline_reason FROM provider_ledger
       WHERE idempotency_key = ${idempotencyKey} AND NOT EXISTS (SELECT 1 FROM inserted)`);
    if (!row)
      throw new DependencyUnavailableError("payment-provider", `simulated provider: no ledger row for ${idempotencyKey}`, { code: "PROVIDER_UNAVAILABLE" });
    const stored: LedgerRow = {
      operation: row.operation,
      requestHash: row.request_hash,
      providerPaymentId: row.provider_payment_id,
      outcome: row.outcome,
      declineReason: row.decline_reason,
    };
    if (stored.requestHash !== entry.requestHash || stored.operation !== entry.operation) {
      throw new PermanentError(`idempotency key ${idempotencyKey} was used before with other parameters`, { code: "IDEMPOTENCY_KEY_REUSED" });
    }
    return stored;
  }

  private async networkDelay(): Promise<void> {
    const latency = this.options.latencyMs;
    if (latency > 0) await sleep(latency * (0.5 + this.random()));
  }
}
