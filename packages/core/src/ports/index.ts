export * from './event-bus.ts';
export * from './logger.ts';
