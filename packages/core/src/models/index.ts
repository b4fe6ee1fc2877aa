export * from './model-kind.ts';
export * from './model-runtime.ts';
