-- AlterTable
ALTER TABLE "outbox" ADD COLUMN     "kafka_offset" BIGINT,
ADD COLUMN     "kafka_partition" INTEGER;
