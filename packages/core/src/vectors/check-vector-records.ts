import { validationError } from '../errors/ensemble-error.ts';
import { vectorLimits } from './vector-limits.ts';
import type { MetadataValue, VectorMetadata, VectorRecord } from './vector-record.ts';

/** Checks a batch to upsert against the index's dimension and Pinecone's limits, naming the bad field. */
export function checkVectorRecords(records: readonly VectorRecord[], dimension: number, field = 'vectors'): void {
  if (records.length === 0) throw validationError(field, 'must hold at least one vector');
  if (records.length > vectorLimits.maxUpsertBatch) {
    throw validationError(field, `at most ${vectorLimits.maxUpsertBatch} vectors per upsert, got ${records.length}`);
  }
  const seen = new Set<string>();
  records.forEach((record, i) => {
    const path = `${field}[${i}]`;
    checkVectorId(record.id, `${path}.id`);
    if (seen.has(record.id)) throw validationError(`${path}.id`, `'${record.id}' appears twice in one upsert`);
    seen.add(record.id);
    checkVectorValues(record.values, dimension, `${path}.values`);
    if (record.metadata !== undefined) checkMetadata(record.metadata, `${path}.metadata`);
  });
}

export function checkVectorId(id: unknown, field: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0) throw validationError(field, 'must be a non-empty string');
  if (id.length > vectorLimits.maxIdLength) {
    throw validationError(field, `must be at most ${vectorLimits.maxIdLength} characters`);
  }
}

export function checkVectorValues(values: unknown, dimension: number, field: string): asserts values is number[] {
  if (!Array.isArray(values)) throw validationError(field, 'must be a list of numbers');
  if (values.length !== dimension) {
    throw validationError(field, `has dimension ${values.length}; the index has dimension ${dimension}`);
  }
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw validationError(`${field}[${i}]`, 'must be a finite number (no NaN or Infinity)');
    }
  }
}

const utf8 = new TextEncoder();

export function checkMetadata(metadata: unknown, field: string): asserts metadata is VectorMetadata {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw validationError(field, 'must be an object');
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (!isMetadataValue(value)) {
      throw validationError(`${field}.${key}`, 'must be a string, a finite number, a boolean or a list of strings');
    }
  }
  const bytes = utf8.encode(JSON.stringify(metadata)).length;
  if (bytes > vectorLimits.maxMetadataBytes) {
    throw validationError(field, `is ${bytes} bytes; at most ${vectorLimits.maxMetadataBytes} bytes per vector`);
  }
}

function isMetadataValue(value: unknown): value is MetadataValue {
  if (typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
