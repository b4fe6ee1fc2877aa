export * from './local-artifact-store.ts';
