// The inventory consumer process: telemetry first (instrumentation must hook pg and kafkajs before they load).
import { startTelemetry } from "../shared/telemetry/start-telemetry.ts";

const telemetry = startTelemetry({ serviceName: "inventory" });

const { runConsumerService } = await import("../shared/consumer/run-consumer-service.ts");
const { inventoryConsumer } = await import("./inventory-consumer.ts");

await runConsumerService({ serviceName: "inventory", telemetry, definition: inventoryConsumer });
