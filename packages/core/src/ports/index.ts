export * from './credential-repository.ts';
export * from './dependency-check.ts';
export * from './event-bus.ts';
export * from './logger.ts';
export * from './model-repository.ts';
export * from './project-repository.ts';
export * from './artifact-store.ts';
export * from './scale-in-protection.ts';
