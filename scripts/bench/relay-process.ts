// The relay under test in `npm run bench -- relay`, in a process of its own (forked by relay.ts), so the benchmark's
// own work (inserting rows, checking for completion) never runs on the relay's event loop or steals its CPU.
// Config comes from the environment the parent passes. Messages: parent "start" / "stop"; child "ready", "started",
// "stopped" (with the relay's created->acked quantiles).
import { loadConfig } from "../../services/shared/config/load-config.ts";
import { createLogger } from "../../services/shared/logging/create-logger.ts";
import { assembleRelay } from "../../services/outbox-relay/relay-setup.ts";

const logger = createLogger({ service: "bench-relay", level: "warn" });
const { relay, metrics } = await assembleRelay(loadConfig(), logger);

const quantileMs = (q: number) => Math.round(metrics.latencyQuantile(q) * 1000 * 10) / 10;

process.on("message", (message: { type: string }) => {
  if (message.type === "start") {
    void relay.start().then(() => process.send?.({ type: "started" }));
  } else if (message.type === "stop") {
    void relay.stop().then(() => {
      process.send?.({ type: "stopped", published: metrics.published, p50Ms: quantileMs(0.5), p99Ms: quantileMs(0.99), maxMs: quantileMs(1) });
      process.disconnect();
    });
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready" });
