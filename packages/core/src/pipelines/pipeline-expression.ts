import jsonata from 'jsonata';
import { EnsembleError } from '../errors/ensemble-error.ts';

/** A plain dotted path (`input.text`, `summaries`): read directly, without JSONata. */
const plainPath = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** An expression compiled once: a path read, or a JSONata expression. */
export interface CompiledExpression {
  readonly source: string;
  /** The path's segments when the expression is a plain path (validation checks types on these). */
  readonly path: readonly string[] | undefined;
  evaluate(state: Readonly<Record<string, unknown>>): Promise<unknown>;
}

const compiled = new Map<string, CompiledExpression>();

/**
 * Compiles an expression over the run's state. JSONata is an expression language with no access to
 * the file system, the network or the process (its functions are pure, plus `$now`/`$random`);
 * `$eval` only evaluates JSONata. Compiled expressions are kept (a definition's are few and reused).
 * A syntax error is a `validation_failed` naming `field`.
 */
export function compileExpression(source: string, field: string): CompiledExpression {
  const known = compiled.get(source);
  if (known !== undefined) return known;
  let expression: CompiledExpression;
  if (plainPath.test(source)) {
    const path = source.split('.');
    expression = { source, path, evaluate: async (state) => readPath(state, path) };
  } else {
    let parsed: jsonata.Expression;
    try {
      parsed = jsonata(source);
    } catch (error) {
      throw new EnsembleError('validation_failed', `${field}: not a valid JSONata expression: ${messageOf(error)}`, {
        field,
      });
    }
    expression = {
      source,
      path: undefined,
      evaluate: async (state) => {
        try {
          return normalise(await parsed.evaluate(state));
        } catch (error) {
          throw new EnsembleError('validation_failed', `${field}: ${messageOf(error)}`, { field });
        }
      },
    };
  }
  if (compiled.size > 10_000) compiled.clear();
  compiled.set(source, expression);
  return expression;
}

export function readPath(state: unknown, path: readonly string[]): unknown {
  let value: unknown = state;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** JSONata marks its result arrays with a `sequence` flag; plain JSON values leave the run. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  return value;
}

const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;

/** The state paths a template reads. */
export function templatePaths(template: string): string[][] {
  return [...template.matchAll(placeholder)].map((match) => (match[1] as string).split('.'));
}

/** Fills `{{path}}` placeholders from the state: strings as they are, lists of strings one per line, the rest as JSON. */
export function renderTemplate(template: string, state: Readonly<Record<string, unknown>>): string {
  return template.replace(placeholder, (_match, path: string) => textOf(readPath(state, path.split('.'))));
}

export function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join('\n');
  return JSON.stringify(value);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  return String(error);
}
