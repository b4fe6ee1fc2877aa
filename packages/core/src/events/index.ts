export * from './event-envelope.ts';
export * from './topics.ts';
