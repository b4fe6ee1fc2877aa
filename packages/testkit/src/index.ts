export * from './environment.ts';
export * from './kafka-broker.ts';
export * from './test-database.ts';
export * from './wait-for.ts';
