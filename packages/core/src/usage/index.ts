export * from './usage-event.ts';
export * from './usage-query.ts';
