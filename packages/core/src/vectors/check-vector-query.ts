import { validationError } from '../errors/ensemble-error.ts';
import { checkVectorId, checkVectorValues } from './check-vector-records.ts';
import { compileMetadataFilter, type MetadataPredicate } from './metadata-filter.ts';
import { vectorLimits } from './vector-limits.ts';
import type { VectorQuery } from './vector-store.ts';

/** Checks a query (topK, exactly one of vector/id, the filter) and returns its compiled filter. */
export function checkVectorQuery(query: VectorQuery, dimension: number): MetadataPredicate | undefined {
  if (!Number.isInteger(query.topK) || query.topK < 1 || query.topK > vectorLimits.maxTopK) {
    throw validationError('topK', `must be an integer from 1 to ${vectorLimits.maxTopK}`);
  }
  if ((query.vector === undefined) === (query.id === undefined)) {
    throw validationError('vector', 'send exactly one of vector and id');
  }
  if (query.vector !== undefined) checkVectorValues(query.vector, dimension, 'vector');
  if (query.id !== undefined) checkVectorId(query.id, 'id');
  return query.filter === undefined ? undefined : compileMetadataFilter(query.filter);
}
