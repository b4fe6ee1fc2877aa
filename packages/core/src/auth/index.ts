export * from './api-key.ts';
export * from './api-key-store.ts';
export * from './authenticator.ts';
export * from './principal.ts';
