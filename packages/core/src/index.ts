export * from './config/index.ts';
export * from './errors/index.ts';
export * from './events/index.ts';
export * from './models/index.ts';
export * from './ports/index.ts';
export * from './projects/index.ts';
export * from './routing/index.ts';
