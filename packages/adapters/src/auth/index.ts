export * from './api-key-secret.ts';
export * from './verified-key-cache.ts';
