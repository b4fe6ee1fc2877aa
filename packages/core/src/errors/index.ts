export * from './ensemble-error.ts';
export * from './error-catalogue.ts';
