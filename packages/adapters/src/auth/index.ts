export * from './api-key-secret.ts';
export * from './password-hash.ts';
export * from './verified-key-cache.ts';
