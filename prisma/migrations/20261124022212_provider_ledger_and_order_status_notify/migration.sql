-- CreateTable
CREATE TABLE "provider_ledger" (
    "idempotency_key" VARCHAR(255) NOT NULL,
    "operation" VARCHAR(16) NOT NULL,
    "request_hash" CHAR(64) NOT NULL,
    "provider_payment_id" VARCHAR(128) NOT NULL,
    "outcome" VARCHAR(16) NOT NULL,
    "decline_reason" TEXT,
    "amount_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_ledger_pkey" PRIMARY KEY ("idempotency_key")
);

-- CreateIndex
CREATE INDEX "provider_ledger_provider_payment_id_idx" ON "provider_ledger"("provider_payment_id");

-- Hand-written below.

-- Prefer: wait on the order API listens on this channel instead of polling: every status change of an order is
-- announced with its id and new status (payload "<order id>:<status>", well under NOTIFY's 8000-byte limit).
-- NOTIFY is delivered at commit, so a listener never sees a status that was rolled back.
-- The body is an E'' string with \073 for a semicolon: the migration runner (Prisma's pg adapter, executeScript) splits
-- scripts at every semicolon, even inside dollar quotes, which would cut a PL/pgSQL body apart.
CREATE FUNCTION "notify_order_status"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  PERFORM pg_notify(''order_status'', NEW."id"::text || '':'' || NEW."status"::text)\073
  RETURN NEW\073
END
';

CREATE TRIGGER "orders_status_notify"
  AFTER UPDATE OF "status" ON "orders"
  FOR EACH ROW WHEN (OLD."status" IS DISTINCT FROM NEW."status")
  EXECUTE FUNCTION "notify_order_status"();

ALTER TABLE "provider_ledger" ADD CONSTRAINT "provider_ledger_amount_minor_non_negative" CHECK ("amount_minor" >= 0);
