// The load generator's own process (forked by load-generator.ts): it shares the cores with the system under test,
// so it is kept apart from the sampling and bookkeeping of the benchmark and its CPU is read on its own.
import { runOpenLoop, type LoadJob } from "./open-loop.ts";

interface RunMessage {
  type: "run";
  job: LoadJob;
}

process.on("message", (message: RunMessage) => {
  if (message.type !== "run") return;
  runOpenLoop(message.job).then(
    (result) => process.send?.({ type: "result", result }),
    (error: unknown) => process.send?.({ type: "error", message: error instanceof Error ? error.message : String(error) }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready" });
