export * from './consumer-lag-groups.ts';
export * from './consumer-lag-reporter.ts';
export { emfLagLine } from './emf-lag-line.ts';
export * from './jobs/index.ts';
export * from './usage-ledger/index.ts';
export * from './worker.ts';
