import type { ConditionScalar, FieldOperators, FieldTest, RouteCondition } from './route-condition.ts';
import { type RouteContext, readContextField } from './route-context.ts';

/**
 * Whether a (validated) condition holds for a request. Array fields such as `key.tags` or a
 * multi-valued header match `$eq`/`$in` when any element does, and `$ne`/`$nin` when none does,
 * as in MongoDB. Comparisons only compare numbers with numbers and strings with strings.
 */
export function matchesCondition(condition: RouteCondition, context: RouteContext): boolean {
  for (const [key, test] of Object.entries(condition)) {
    if (test === undefined) continue;
    if (key === '$and') {
      if (!(test as readonly RouteCondition[]).every((child) => matchesCondition(child, context))) return false;
    } else if (key === '$or') {
      if (!(test as readonly RouteCondition[]).some((child) => matchesCondition(child, context))) return false;
    } else if (key === '$not') {
      if (matchesCondition(test as RouteCondition, context)) return false;
    } else if (!matchesField(readContextField(context, key), test as FieldTest)) {
      return false;
    }
  }
  return true;
}

function matchesField(value: unknown, test: FieldTest): boolean {
  if (test === null || typeof test !== 'object') return anyEquals(value, test);
  const operators: FieldOperators = test;
  for (const [operator, operand] of Object.entries(operators)) {
    if (!applyOperator(operator, operand, value)) return false;
  }
  return true;
}

function applyOperator(operator: string, operand: unknown, value: unknown): boolean {
  switch (operator) {
    case '$eq':
      return anyEquals(value, operand as ConditionScalar);
    case '$ne':
      return !anyEquals(value, operand as ConditionScalar);
    case '$in':
      return (operand as readonly ConditionScalar[]).some((item) => anyEquals(value, item));
    case '$nin':
      return !(operand as readonly ConditionScalar[]).some((item) => anyEquals(value, item));
    case '$gt':
      return compare(value, operand as number | string, (order) => order > 0);
    case '$gte':
      return compare(value, operand as number | string, (order) => order >= 0);
    case '$lt':
      return compare(value, operand as number | string, (order) => order < 0);
    case '$lte':
      return compare(value, operand as number | string, (order) => order <= 0);
    case '$exists':
      return (value !== undefined) === operand;
    case '$regex':
      return anyValue(value, (item) => typeof item === 'string' && compiled(operand as string).test(item));
    default:
      return false;
  }
}

function anyEquals(value: unknown, expected: ConditionScalar): boolean {
  // A missing field equals null, as in MongoDB; it never equals anything else.
  if (value === undefined) return expected === null;
  return anyValue(value, (item) => item === expected);
}

function compare(value: unknown, operand: number | string, accept: (order: number) => boolean): boolean {
  return anyValue(value, (item) => {
    if (typeof item !== typeof operand) return false;
    if (typeof item === 'number') return accept(item - (operand as number));
    if (typeof item === 'string') return accept(item < operand ? -1 : item > operand ? 1 : 0);
    return false;
  });
}

function anyValue(value: unknown, predicate: (item: unknown) => boolean): boolean {
  return Array.isArray(value) ? value.some(predicate) : predicate(value);
}

// Conditions are evaluated on every request: compile each pattern once (bounded, patterns come from routes).
const patterns = new Map<string, RegExp>();
function compiled(source: string): RegExp {
  let pattern = patterns.get(source);
  if (pattern === undefined) {
    pattern = new RegExp(source, 'u');
    if (patterns.size >= 1000) patterns.clear();
    patterns.set(source, pattern);
  }
  return pattern;
}
