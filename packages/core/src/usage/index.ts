export * from './usage-event.ts';
