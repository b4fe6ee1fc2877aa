import { silentLogger } from '@ensemble/core';
import { testKafkaBrokers } from '@ensemble/testkit';
import { describeEventBusContract } from '@ensemble/testkit/event-bus-contract';
import { KafkaEventBus } from './kafka-event-bus.ts';

const connect = (clientId: string) =>
  new KafkaEventBus({
    brokers: testKafkaBrokers(),
    clientId,
    replicationFactor: 1,
    connectTimeoutMs: 5_000,
    logger: silentLogger,
  });

describeEventBusContract('kafka', async () => ({
  bus: connect('contract-a'),
  secondClient: async () => connect('contract-b'),
  cleanup: async () => {},
}));
