-- DropIndex
DROP INDEX "payment_callbacks_unreconciled_idx";

-- AlterTable
ALTER TABLE "payment_callbacks" ADD COLUMN     "expired_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "order_tombstones" (
    "consumer_group" VARCHAR(128) NOT NULL,
    "order_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_tombstones_pkey" PRIMARY KEY ("consumer_group","order_id")
);

-- CreateTable
CREATE TABLE "order_deadlines" (
    "order_id" UUID NOT NULL,
    "due_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_deadlines_pkey" PRIMARY KEY ("order_id")
);

-- CreateIndex
CREATE INDEX "order_deadlines_due_at_idx" ON "order_deadlines"("due_at");

-- CreateIndex
CREATE INDEX "payment_callbacks_unreconciled_idx" ON "payment_callbacks"("received_at") WHERE (reconciled_at IS NULL AND expired_at IS NULL);
