export { KafkaEventBus, type KafkaEventBusOptions } from './kafka-event-bus.ts';
export { type KafkaErrorContext, mapKafkaError } from './map-kafka-error.ts';
