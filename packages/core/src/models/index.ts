export * from './model-kind.ts';
export * from './model-provider.ts';
export * from './model-runtime.ts';
