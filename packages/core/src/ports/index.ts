export * from './dependency-check.ts';
export * from './event-bus.ts';
export * from './logger.ts';
export * from './project-repository.ts';
