import type { AppConfig } from "../config/config-schema.ts";
import type { Logger } from "../logging/create-logger.ts";
import { createKafka, parseBrokers } from "./kafka-client.ts";
import type { Kafka } from "./kafka-types.ts";

/** A service's Kafka client from validated configuration, its client id `<KAFKA_CLIENT_ID>-<service>`, logging through pino. */
export function kafkaFromConfig(config: AppConfig, service: string, logger: Logger): Kafka {
  return createKafka({
    brokers: parseBrokers(config.KAFKA_BROKERS),
    clientId: `${config.KAFKA_CLIENT_ID}-${service}`,
    log: (record) => logger[record.level]({ kafkajs: record.namespace, ...record.details }, record.message),
  });
}
