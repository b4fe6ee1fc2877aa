export { busChannel } from './bus-log.ts';
export * from './embedded-event-bus.ts';
export { partitionForKey } from './partition-for-key.ts';
