export * from './hosted-providers.ts';
export * from './local/index.ts';
