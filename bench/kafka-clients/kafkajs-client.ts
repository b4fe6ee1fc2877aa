import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { BenchClient, BenchConsumer, BenchMessage } from './bench-client.ts';

/** kafkajs 2.2.4 configured like the event bus: idempotent producer, acks=all, Java-compatible partitioner. */
export function kafkajsClient(brokers: string[]): BenchClient {
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers, logLevel: logLevel.ERROR });
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  let connected: Promise<void> | undefined;
  return {
    name: 'kafkajs',
    async produce(topic: string, messages: readonly BenchMessage[]) {
      connected ??= producer.connect();
      await connected;
      await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key, value: m.value })) });
    },
    async consume(groupId: string, topic: string, onMessage: (key: string) => void): Promise<BenchConsumer> {
      const consumer = kafka.consumer({ groupId });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          onMessage(message.key?.toString() ?? '');
        },
      });
      return {
        async close() {
          await consumer.disconnect();
        },
      };
    },
    async close() {
      await producer.disconnect();
    },
  };
}
