import { Gauge, type Registry } from "prom-client";
import { registerSnapshotHistogram } from "../shared/metrics/snapshot-histogram.ts";
import type { RelayMetrics } from "./relay-metrics.ts";

/**
 * The relay's own numbers (RelayMetrics, recorded without a metrics library) exposed on its /metrics at scrape time:
 * publish latency (outbox created_at -> Kafka ack), rows published, shards owned, and its view of the backlog.
 */
export function exposeRelayMetrics(registry: Registry, metrics: RelayMetrics): void {
  registerSnapshotHistogram(
    registry,
    "orderflow_outbox_publish_latency_seconds",
    "Time from an outbox row's created_at to Kafka acking it (this relay instance).",
    () => metrics.createdToAcked,
  );
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge("orderflow_outbox_published_rows", "Outbox rows this relay instance published since it started.", () => metrics.published);
  gauge("orderflow_relay_owned_shards", "Outbox shards this relay instance holds the advisory lock of.", () => metrics.ownedShards);
  gauge("orderflow_relay_backlog_rows", "Unpublished outbox rows as this relay last read them (refreshed every few seconds).", () => metrics.backlog);
  gauge(
    "orderflow_relay_oldest_unpublished_age_seconds",
    "Age of the oldest unpublished row as this relay last read it.",
    () => metrics.oldestUnpublishedAgeSeconds,
  );
}
