export * from './leased-rate-limiter.ts';
export * from './limit-settings.ts';
export * from './limit-store.ts';
