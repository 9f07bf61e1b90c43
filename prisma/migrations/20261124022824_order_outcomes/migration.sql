-- CreateTable
CREATE TABLE "order_outcomes" (
    "order_id" UUID NOT NULL,
    "stock_status" VARCHAR(16),
    "stock_reason" TEXT,
    "payment_status" VARCHAR(16),
    "payment_reason" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_outcomes_pkey" PRIMARY KEY ("order_id")
);

-- Only the outcomes the order-state service knows (Prisma cannot express CHECK constraints).
ALTER TABLE "order_outcomes" ADD CONSTRAINT "order_outcomes_stock_status_check" CHECK ("stock_status" IN ('RESERVED', 'REJECTED'));
ALTER TABLE "order_outcomes" ADD CONSTRAINT "order_outcomes_payment_status_check" CHECK ("payment_status" IN ('AUTHORIZED', 'DECLINED'));
