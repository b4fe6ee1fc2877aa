export * from './check-vector-query.ts';
export * from './check-vector-records.ts';
export * from './metadata-filter.ts';
export * from './top-k.ts';
export * from './vector-limits.ts';
export * from './vector-record.ts';
export * from './vector-score.ts';
export * from './vector-store.ts';
