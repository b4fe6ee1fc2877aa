export * from './config-schema.ts';
export * from './parse-config.ts';
