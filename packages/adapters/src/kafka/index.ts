export { KafkaEventBus, type KafkaEventBusOptions } from './kafka-event-bus.ts';
export type { KafkaSaslOptions, KafkaTlsOptions } from './kafka-security.ts';
export { type KafkaErrorContext, mapKafkaError } from './map-kafka-error.ts';
