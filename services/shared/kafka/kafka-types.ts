// The kafkajs types the rest of the code may use. Everything outside services/shared/kafka/ imports them from here,
// never from "kafkajs", so the client library stays replaceable in one place.
export type {
  Admin,
  Consumer,
  ConsumerConfig,
  ConsumerRunConfig,
  EachBatchPayload,
  EachMessagePayload,
  IHeaders,
  Kafka,
  KafkaMessage,
  Message,
  Producer,
  ProducerConfig,
  ProducerRecord,
  RecordMetadata,
  TopicMessages,
} from "kafkajs";
