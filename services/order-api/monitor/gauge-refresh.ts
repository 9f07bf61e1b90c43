/**
 * /metrics must cost a scrape nothing but rendering: the backlog gauges (consumer lag from Kafka, outbox and stuck
 * orders from PostgreSQL) are refreshed in the background, at most once per period, when a scrape finds them
 * older than that. The scrape that triggers a refresh does not wait for it; it serves the values it has.
 */
export function backgroundRefresh(refresh: () => Promise<void>, periodMs: number, onError: (error: unknown) => void, now: () => number = Date.now): () => void {
  let startedAt = Number.NEGATIVE_INFINITY;
  let running = false;
  return () => {
    if (running || now() - startedAt < periodMs) return;
    running = true;
    startedAt = now();
    refresh()
      .catch(onError)
      .finally(() => (running = false));
  };
}
