// The order-state consumer process: telemetry first (instrumentation must hook pg and kafkajs before they load),
// then the shared consumer runner with the saga deadline job beside it.
import { startTelemetry } from "../shared/telemetry/start-telemetry.ts";

const telemetry = startTelemetry({ serviceName: "order-state" });

const { runConsumerService } = await import("../shared/consumer/run-consumer-service.ts");
const { orderStateConsumer } = await import("./order-state-consumer.ts");
const { sagaDeadlineExtension } = await import("./saga-deadline.ts");
const { loadConfig } = await import("../shared/config/load-config.ts");

await runConsumerService({
  serviceName: "order-state",
  telemetry,
  definition: orderStateConsumer({ paymentDeadlineSeconds: loadConfig().SAGA_PAYMENT_DEADLINE_SECONDS }),
  extensions: [sagaDeadlineExtension()],
});
