import { Consumer, ProduceAcks, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import type { BenchClient, BenchConsumer, BenchMessage } from './bench-client.ts';

/** @platformatic/kafka as the event bus uses it: idempotent producer, acks=all. */
export function platformaticClient(brokers: string[]): BenchClient {
  const producer = new Producer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    acks: ProduceAcks.ALL,
    idempotent: true,
  });
  return {
    name: '@platformatic/kafka',
    async produce(topic: string, messages: readonly BenchMessage[]) {
      await producer.send({ messages: messages.map((m) => ({ topic, key: m.key, value: m.value })) });
    },
    async consume(groupId: string, topic: string, onMessage: (key: string) => void): Promise<BenchConsumer> {
      const consumer = new Consumer({
        clientId: 'bench-platformatic-consumer',
        groupId,
        bootstrapBrokers: brokers,
        deserializers: stringDeserializers,
      });
      const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
      stream.on('data', (message) => onMessage(message.key));
      return {
        async close() {
          await stream.close();
          await consumer.close();
        },
      };
    },
    async close() {
      await producer.close();
    },
  };
}
