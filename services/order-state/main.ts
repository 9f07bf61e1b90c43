// The order-state consumer process: telemetry first (instrumentation must hook pg and kafkajs before they load).
import { startTelemetry } from "../shared/telemetry/start-telemetry.ts";

const telemetry = startTelemetry({ serviceName: "order-state" });

const { runConsumerService } = await import("../shared/consumer/run-consumer-service.ts");
const { orderStateConsumer } = await import("./order-state-consumer.ts");

await runConsumerService({ serviceName: "order-state", telemetry, definition: orderStateConsumer });
