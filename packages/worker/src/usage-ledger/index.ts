export * from './usage-ledger-consumer.ts';
export * from './usage-ledger-maintenance.ts';
