-- CreateTable
CREATE TABLE "stock_received" (
    "sku" VARCHAR(64) NOT NULL,
    "received_units" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stock_received_pkey" PRIMARY KEY ("sku")
);

-- CreateTable
CREATE TABLE "audit_runs" (
    "id" BIGSERIAL NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ok" BOOLEAN NOT NULL,
    "violations" INTEGER NOT NULL,
    "verdict" JSONB NOT NULL,

    CONSTRAINT "audit_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_runs_finished_at_idx" ON "audit_runs"("finished_at" DESC);

-- Hand-written below.

-- Stock conservation needs to know how many units ever entered stock; nothing recorded it. Units enter by a new
-- stock row or an update that raises available + reserved (db:seed, a restock); reserve and release only move
-- units between the two columns, and a sale (OrderConfirmed) only lowers reserved, so the hot path never fires the
-- update trigger (its WHEN is false). The audit then checks received = available + reserved + sold.
-- The body is an E'' string with \073 for a semicolon: the migration runner splits scripts at every semicolon.
CREATE FUNCTION "record_stock_received"() RETURNS trigger LANGUAGE plpgsql AS E'
DECLARE
  added bigint\073
BEGIN
  IF TG_OP = ''INSERT'' THEN
    added := NEW."available"::bigint + NEW."reserved"\073
  ELSE
    added := (NEW."available"::bigint + NEW."reserved") - (OLD."available"::bigint + OLD."reserved")\073
  END IF\073
  INSERT INTO "stock_received" ("sku", "received_units") VALUES (NEW."sku", added)
    ON CONFLICT ("sku") DO UPDATE SET "received_units" = "stock_received"."received_units" + EXCLUDED."received_units", "updated_at" = now()\073
  RETURN NULL\073
END
';

CREATE TRIGGER "stock_received_on_insert"
  AFTER INSERT ON "stock"
  FOR EACH ROW EXECUTE FUNCTION "record_stock_received"();

CREATE TRIGGER "stock_received_on_increase"
  AFTER UPDATE OF "available", "reserved" ON "stock"
  FOR EACH ROW WHEN ((NEW."available"::bigint + NEW."reserved") > (OLD."available"::bigint + OLD."reserved"))
  EXECUTE FUNCTION "record_stock_received"();

-- Stock that existed before this migration: what is there now plus what was sold.
INSERT INTO "stock_received" ("sku", "received_units")
SELECT s."sku", s."available"::bigint + s."reserved" + coalesce((SELECT sum(r."quantity") FROM "stock_reservations" r WHERE r."sku" = s."sku" AND r."status" = 'COMMITTED'), 0)
  FROM "stock" s;
