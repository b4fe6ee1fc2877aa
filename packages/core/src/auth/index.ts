export * from './api-key.ts';
export * from './api-key-store.ts';
export * from './authenticator.ts';
export * from './console-user.ts';
export * from './failure-counter.ts';
export * from './oidc-sign-in.ts';
export * from './principal.ts';
