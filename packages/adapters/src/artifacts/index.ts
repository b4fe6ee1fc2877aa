export * from './local-artifact-store.ts';
export * from './s3-artifact-store.ts';
