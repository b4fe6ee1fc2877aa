import { z } from 'zod';
import { contextFieldPattern } from './route-context.ts';

export type ConditionScalar = string | number | boolean | null;

/** Tests on one field; several in one object must all hold. */
export interface FieldOperators {
  readonly $eq?: ConditionScalar;
  readonly $ne?: ConditionScalar;
  readonly $in?: readonly ConditionScalar[];
  readonly $nin?: readonly ConditionScalar[];
  readonly $gt?: number | string;
  readonly $gte?: number | string;
  readonly $lt?: number | string;
  readonly $lte?: number | string;
  readonly $exists?: boolean;
  readonly $regex?: string;
}

/** A literal is shorthand for `$eq`. */
export type FieldTest = FieldOperators | ConditionScalar;

/**
 * A MongoDB-style query over the request context, e.g.
 * `{ 'metadata.plan': 'pro', 'params.max_tokens': { $gt: 1000 } }`. Fields listed side by side
 * must all match; `$and`, `$or`, `$not` combine whole conditions.
 */
export interface RouteCondition {
  readonly $and?: readonly RouteCondition[];
  readonly $or?: readonly RouteCondition[];
  readonly $not?: RouteCondition;
  readonly [field: string]: FieldTest | RouteCondition | readonly RouteCondition[] | undefined;
}

export const fieldOperatorNames = [
  '$eq',
  '$ne',
  '$in',
  '$nin',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$exists',
  '$regex',
] as const;

/** Bounds keep a condition cheap to evaluate on every request. */
export const conditionLimits = { maxDepth: 8, maxClauses: 64, maxListLength: 1000, maxRegexLength: 500 } as const;

type PathSegment = string | number;
interface Issue {
  path: PathSegment[];
  message: string;
}

export const routeConditionSchema = z.custom<RouteCondition>().superRefine((value, ctx) => {
  const issues: Issue[] = [];
  checkCondition(value, [], 1, { clauses: 0 }, issues);
  for (const issue of issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});

function checkCondition(
  value: unknown,
  path: PathSegment[],
  depth: number,
  budget: { clauses: number },
  issues: Issue[],
): void {
  if (!isPlainObject(value)) {
    issues.push({ path, message: 'must be a mapping of fields to tests, or $and / $or / $not' });
    return;
  }
  if (depth > conditionLimits.maxDepth) {
    issues.push({ path, message: `nests $and/$or/$not deeper than ${conditionLimits.maxDepth} levels` });
    return;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) issues.push({ path, message: 'must test at least one field' });
  for (const [key, child] of entries) {
    const at = [...path, key];
    budget.clauses += 1;
    if (budget.clauses > conditionLimits.maxClauses) {
      issues.push({ path: at, message: `a condition may hold at most ${conditionLimits.maxClauses} tests` });
      return;
    }
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(child) || child.length === 0 || child.length > conditionLimits.maxClauses) {
        issues.push({ path: at, message: `must be a list of 1-${conditionLimits.maxClauses} conditions` });
        continue;
      }
      child.forEach((item, index) => {
        checkCondition(item, [...at, index], depth + 1, budget, issues);
      });
    } else if (key === '$not') {
      checkCondition(child, at, depth + 1, budget, issues);
    } else if (key.startsWith('$')) {
      issues.push({ path: at, message: `unknown combinator '${key}'; use $and, $or, $not or a field name` });
    } else if (!contextFieldPattern.test(key)) {
      issues.push({
        path: at,
        message: 'must name metadata.<field>, params.<field>, headers.<name>, key.id or key.tags',
      });
    } else {
      checkFieldTest(child, at, issues);
    }
  }
}

function checkFieldTest(value: unknown, path: PathSegment[], issues: Issue[]): void {
  if (isScalar(value)) return;
  if (!isPlainObject(value)) {
    issues.push({ path, message: 'must be a literal (string, number, boolean, null) or operators such as $in' });
    return;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) issues.push({ path, message: 'must hold at least one operator' });
  for (const [operator, operand] of entries) {
    const message = operandProblem(operator, operand);
    if (message !== undefined) issues.push({ path: [...path, operator], message });
  }
}

function operandProblem(operator: string, operand: unknown): string | undefined {
  switch (operator) {
    case '$eq':
    case '$ne':
      return isScalar(operand) ? undefined : 'must be a string, number, boolean or null';
    case '$in':
    case '$nin':
      return Array.isArray(operand) && operand.length <= conditionLimits.maxListLength && operand.every(isScalar)
        ? undefined
        : `must be a list of at most ${conditionLimits.maxListLength} strings, numbers, booleans or nulls`;
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return (typeof operand === 'number' && Number.isFinite(operand)) || typeof operand === 'string'
        ? undefined
        : 'must be a number or a string';
    case '$exists':
      return typeof operand === 'boolean' ? undefined : 'must be true or false';
    case '$regex':
      if (typeof operand !== 'string' || operand.length > conditionLimits.maxRegexLength) {
        return `must be a regular expression of at most ${conditionLimits.maxRegexLength} characters`;
      }
      try {
        new RegExp(operand, 'u');
        return undefined;
      } catch (error) {
        return `is not a valid regular expression (${(error as Error).message})`;
      }
    default:
      return `unknown operator '${operator}'; use one of ${fieldOperatorNames.join(', ')}`;
  }
}

function isScalar(value: unknown): value is ConditionScalar {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
