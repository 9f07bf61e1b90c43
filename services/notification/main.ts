// The notification service (group notification): telemetry first (instrumentation must hook pg and kafkajs before
// they load), then the shared consumer runner with the configured channel.
import { startTelemetry } from "../shared/telemetry/start-telemetry.ts";

const telemetry = startTelemetry({ serviceName: "notification" });

const { runConsumerService } = await import("../shared/consumer/run-consumer-service.ts");
const { notificationConsumer } = await import("./notification-consumer.ts");
const { LogChannel } = await import("./notification-channel.ts");
const { createLogger } = await import("../shared/logging/create-logger.ts");
const { loadConfig } = await import("../shared/config/load-config.ts");

const channelLogger = createLogger({ service: "notification", level: loadConfig().LOG_LEVEL }).child({ component: "channel" });

await runConsumerService({ serviceName: "notification", telemetry, definition: notificationConsumer(new LogChannel(channelLogger)) });
