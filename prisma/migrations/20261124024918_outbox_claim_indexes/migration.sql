-- CreateIndex
CREATE INDEX "outbox_pending_id_idx" ON "outbox"("id") WHERE (published_at IS NULL AND failed_at IS NULL);

-- CreateIndex
CREATE INDEX "outbox_failed_key_id_idx" ON "outbox"("key", "id") WHERE (published_at IS NULL AND failed_at IS NOT NULL);
