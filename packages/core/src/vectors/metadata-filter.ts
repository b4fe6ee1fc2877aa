import { validationError } from '../errors/ensemble-error.ts';
import type { MetadataValue, VectorMetadata } from './vector-record.ts';

/** A filter in Pinecone's metadata filter language, as a client sends it (JSON). */
export type MetadataFilterInput = Record<string, unknown>;

/** A checked filter: a predicate over a vector's metadata. */
export type MetadataPredicate = (metadata: VectorMetadata | undefined) => boolean;

type Scalar = string | number | boolean;

const fieldOperators = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists'] as const;
type FieldOperator = (typeof fieldOperators)[number];

/**
 * Checks a Pinecone metadata filter and compiles it into a predicate. The language: `{field: value}`
 * (equality), `{field: {$op: operand, …}}` with `$eq $ne $gt $gte $lt $lte $in $nin $exists`, and
 * `$and`/`$or` over lists of filters; several keys in one object must all hold. A list-valued field
 * matches a positive operator when any element does, and `$ne`/`$nin` when no element does. Errors are
 * `validation_failed` naming the path of the bad part (`filter.genre.$regex`).
 */
export function compileMetadataFilter(filter: unknown, field = 'filter'): MetadataPredicate {
  if (!isPlainObject(filter)) throw validationError(field, 'a filter must be an object');
  const parts: MetadataPredicate[] = [];
  for (const [key, value] of Object.entries(filter)) {
    const path = `${field}.${key}`;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) {
        throw validationError(path, `${key} takes a non-empty list of filters`);
      }
      const children = value.map((child, i) => compileMetadataFilter(child, `${path}[${i}]`));
      parts.push(key === '$and' ? allOf(children) : anyOf(children));
    } else if (key.startsWith('$')) {
      throw validationError(path, `unknown operator '${key}' at the top of a filter; use $and, $or or a field name`);
    } else if (key === '') {
      throw validationError(path, 'a field name must not be empty');
    } else {
      parts.push(compileField(key, value, path));
    }
  }
  return allOf(parts);
}

function compileField(name: string, condition: unknown, path: string): MetadataPredicate {
  if (!isPlainObject(condition)) {
    return operatorPredicate(name, '$eq', scalarOperand(condition, path));
  }
  const entries = Object.entries(condition);
  if (entries.length === 0) throw validationError(path, 'a field condition needs at least one operator');
  const parts = entries.map(([operator, operand]) => {
    const operatorPath = `${path}.${operator}`;
    if (!(fieldOperators as readonly string[]).includes(operator)) {
      throw validationError(
        operatorPath,
        `unknown operator '${operator}'; supported: ${fieldOperators.join(' ')} (and $and, $or at filter level)`,
      );
    }
    return operatorPredicate(
      name,
      operator as FieldOperator,
      checkOperand(operator as FieldOperator, operand, operatorPath),
    );
  });
  return allOf(parts);
}

function checkOperand(operator: FieldOperator, operand: unknown, path: string): unknown {
  switch (operator) {
    case '$eq':
    case '$ne':
      return scalarOperand(operand, path);
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      if (typeof operand !== 'number' || !Number.isFinite(operand)) {
        throw validationError(path, `${operator} takes a finite number`);
      }
      return operand;
    case '$in':
    case '$nin':
      if (!Array.isArray(operand))
        throw validationError(path, `${operator} takes a list of strings, numbers or booleans`);
      return operand.map((item, i) => scalarOperand(item, `${path}[${i}]`));
    case '$exists':
      if (typeof operand !== 'boolean') throw validationError(path, '$exists takes true or false');
      return operand;
  }
}

function scalarOperand(value: unknown, path: string): Scalar {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw validationError(path, 'must be a string, a finite number or a boolean');
}

function operatorPredicate(name: string, operator: FieldOperator, operand: unknown): MetadataPredicate {
  switch (operator) {
    case '$eq':
      return (metadata) => anyElement(metadata?.[name], (v) => v === operand);
    case '$ne':
      return (metadata) => !anyElement(metadata?.[name], (v) => v === operand);
    case '$gt':
      return (metadata) => anyElement(metadata?.[name], (v) => typeof v === 'number' && v > (operand as number));
    case '$gte':
      return (metadata) => anyElement(metadata?.[name], (v) => typeof v === 'number' && v >= (operand as number));
    case '$lt':
      return (metadata) => anyElement(metadata?.[name], (v) => typeof v === 'number' && v < (operand as number));
    case '$lte':
      return (metadata) => anyElement(metadata?.[name], (v) => typeof v === 'number' && v <= (operand as number));
    case '$in': {
      const set = new Set(operand as Scalar[]);
      return (metadata) => anyElement(metadata?.[name], (v) => set.has(v));
    }
    case '$nin': {
      const set = new Set(operand as Scalar[]);
      return (metadata) => !anyElement(metadata?.[name], (v) => set.has(v));
    }
    case '$exists':
      return operand === true
        ? (metadata) => metadata?.[name] !== undefined
        : (metadata) => metadata?.[name] === undefined;
  }
}

/** A list value matches when any element does; a missing value matches nothing. */
function anyElement(value: MetadataValue | undefined, test: (v: Scalar) => boolean): boolean {
  if (value === undefined) return false;
  if (Array.isArray(value)) return value.some(test);
  return test(value);
}

function allOf(parts: MetadataPredicate[]): MetadataPredicate {
  if (parts.length === 1) return parts[0] as MetadataPredicate;
  return (metadata) => parts.every((part) => part(metadata));
}

function anyOf(parts: MetadataPredicate[]): MetadataPredicate {
  if (parts.length === 1) return parts[0] as MetadataPredicate;
  return (metadata) => parts.some((part) => part(metadata));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
