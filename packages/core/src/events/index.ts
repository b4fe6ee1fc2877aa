export * from './dead-letter-record.ts';
export * from './event-envelope.ts';
export * from './topics.ts';
