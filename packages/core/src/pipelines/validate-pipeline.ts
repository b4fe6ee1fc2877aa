import { z } from 'zod';
import { EnsembleError } from '../errors/ensemble-error.ts';
import { type PipelineDefinition, pipelineDefinitionSchema, type Step } from './pipeline-definition.ts';
import { compileExpression, templatePaths } from './pipeline-expression.ts';
import type { PipelineLimits } from './pipeline-limits.ts';
import type { PipelineHttp, PipelineModels, PipelineRetriever, PipelineSource } from './pipeline-ports.ts';
import { parsePipelineRef } from './pipeline-ref.ts';

/** What a step's result is, as far as validation can tell. */
type ValueType = 'string' | 'object' | 'vector' | 'vectors' | 'documents' | 'classification' | 'array' | 'any';

export interface ValidationIssue {
  /** `definition.steps[2].model` */
  field: string;
  message: string;
}

export interface ValidatePipelineOptions {
  projectId: string;
  /** The pipeline being saved (a nested step naming it, directly or through others, is a cycle). */
  name: string;
  limits: PipelineLimits;
  models?: Pick<PipelineModels, 'kindOf'> | undefined;
  retriever?: Pick<PipelineRetriever, 'exists'> | undefined;
  http?: Pick<PipelineHttp, 'refusal'> | undefined;
  pipelines?: PipelineSource | undefined;
  /** Prefix of every field named (default `definition`). */
  field?: string;
}

/**
 * Parses a definition's shape, then checks what needs more than its shape: models and routes exist
 * and are of the kind a step needs, collections exist, nested pipelines exist and do not loop back,
 * every path a step reads is written by an earlier step (steps run in order), types between steps
 * agree, expressions parse, http URLs are allowed, ids are unique, and the limits hold. Every issue
 * names the step (`definition.steps[2] 'answer'`); the first is thrown, all are in `details.issues`.
 */
export async function validatePipeline(raw: unknown, options: ValidatePipelineOptions): Promise<PipelineDefinition> {
  const prefix = options.field ?? 'definition';
  const parsed = pipelineDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      field: [prefix, ...issue.path].reduce<string>(
        (path, segment, index) =>
          index === 0
            ? String(segment)
            : typeof segment === 'number'
              ? `${path}[${segment}]`
              : `${path}.${String(segment)}`,
        '',
      ),
      message: issue.message,
    }));
    throw issuesError(issues);
  }
  const definition = parsed.data as PipelineDefinition;
  const checker = new Checker(options);
  await checker.run(definition, prefix);
  if (checker.issues.length > 0) throw issuesError(checker.issues);
  return definition;
}

function issuesError(issues: ValidationIssue[]): EnsembleError {
  const first = issues[0] as ValidationIssue;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
  return new EnsembleError('validation_failed', `${first.field}: ${first.message}${more}`, {
    field: first.field,
    details: { issues },
  });
}

class Checker {
  readonly issues: ValidationIssue[] = [];
  readonly #options: ValidatePipelineOptions;
  #steps = 0;

  constructor(options: ValidatePipelineOptions) {
    this.#options = options;
  }

  async run(definition: PipelineDefinition, prefix: string): Promise<void> {
    if (definition.input !== undefined) this.#jsonSchema(definition.input, `${prefix}.input`, undefined);
    const scope = new Map<string, ValueType>([['input', 'any']]);
    await this.#list(definition.steps, `${prefix}.steps`, scope, 1);
    if (definition.output !== undefined) this.#expression(definition.output, `${prefix}.output`, scope, undefined);
    const { maxSteps } = this.#options.limits;
    if (this.#steps > maxSteps) {
      this.#issue(`${prefix}.steps`, `has ${this.#steps} steps (nested ones included); at most ${maxSteps}`);
    }
  }

  #issue(field: string, message: string): void {
    this.issues.push({ field, message });
  }

  /** Checks a list of steps run in order; returns the type of its last step's result. */
  async #list(steps: Step[], field: string, outer: Map<string, ValueType>, depth: number): Promise<ValueType> {
    if (depth > this.#options.limits.maxDepth) {
      this.#issue(field, `is nested ${depth} levels deep; at most ${this.#options.limits.maxDepth}`);
      return 'any';
    }
    const scope = new Map(outer);
    const ids = new Set<string>();
    let last: ValueType = 'any';
    for (const [index, step] of steps.entries()) {
      const at = `${field}[${index}]`;
      if (ids.has(step.id)) this.#issue(`${at}.id`, `step '${step.id}': the id is used twice in this list`);
      ids.add(step.id);
      last = await this.#step(step, at, scope, depth);
      const key = step.output ?? step.id;
      if (key === 'input')
        this.#issue(`${at}.output`, `step '${step.id}': 'input' is the run's input and cannot be written`);
      else scope.set(key, last);
    }
    return last;
  }

  async #step(step: Step, field: string, scope: Map<string, ValueType>, depth: number): Promise<ValueType> {
    this.#steps += 1;
    const named = `step '${step.id}'`;
    if (step.fallback !== undefined) {
      await this.#list([step.fallback], `${field}.fallback`, scope, depth + 1);
    }
    switch (step.kind) {
      case 'prompt':
        this.#template(step.template, `${field}.template`, scope, named);
        return 'string';
      case 'model': {
        await this.#model(step.model, `${field}.model`, named, ['chat', 'route'], 'a chat model or a route');
        if (step.prompt !== undefined) this.#template(step.prompt, `${field}.prompt`, scope, named);
        if (step.system !== undefined) this.#template(step.system, `${field}.system`, scope, named);
        if (step.input !== undefined) {
          this.#expression(
            step.input,
            `${field}.input`,
            scope,
            named,
            ['string', 'array', 'object'],
            'a string or messages',
          );
        }
        if (step.schema !== undefined) this.#jsonSchema(step.schema, `${field}.schema`, named);
        return step.schema === undefined ? 'string' : 'object';
      }
      case 'embed': {
        await this.#model(step.model, `${field}.model`, named, ['embedding'], 'an embedding model');
        const input = this.#expression(
          step.input,
          `${field}.input`,
          scope,
          named,
          ['string', 'array'],
          'a string or a list of strings',
        );
        return input === 'array' ? 'vectors' : input === 'string' ? 'vector' : 'any';
      }
      case 'retrieve': {
        const retriever = this.#options.retriever;
        if (retriever === undefined) {
          this.#issue(`${field}.collection`, `${named}: this installation has no collections to retrieve from`);
        } else if (!(await retriever.exists(this.#options.projectId, step.collection))) {
          this.#issue(
            `${field}.collection`,
            `${named}: names no collection of project '${this.#options.projectId}': '${step.collection}'`,
          );
        }
        this.#expression(step.query, `${field}.query`, scope, named, ['string'], 'a string');
        return 'documents';
      }
      case 'classify':
        await this.#model(step.model, `${field}.model`, named, ['classifier'], 'a classifier model');
        this.#expression(step.input, `${field}.input`, scope, named, ['string'], 'a string');
        return 'classification';
      case 'branch': {
        this.#expression(step.on, `${field}.on`, scope, named);
        for (const [label, steps] of Object.entries(step.cases)) {
          await this.#list(steps, `${field}.cases.${label}`, scope, depth + 1);
        }
        if (step.default !== undefined) await this.#list(step.default, `${field}.default`, scope, depth + 1);
        return 'any';
      }
      case 'parallel': {
        const { maxFanOut } = this.#options.limits;
        if (step.branches.length > maxFanOut) {
          this.#issue(
            `${field}.branches`,
            `${named}: fans out to ${step.branches.length} branches; at most ${maxFanOut}`,
          );
        }
        const types: ValueType[] = [];
        for (const [index, branch] of step.branches.entries()) {
          types.push(await this.#list([branch], `${field}.branches[${index}]`, scope, depth + 1));
          if (step.branches.findIndex((other) => other.id === branch.id) !== index) {
            this.#issue(`${field}.branches[${index}].id`, `${named}: the branch id '${branch.id}' is used twice`);
          }
        }
        const { aggregate } = step;
        if (aggregate.strategy === 'judge' && aggregate.model !== undefined) {
          await this.#model(
            aggregate.model,
            `${field}.aggregate.model`,
            named,
            ['chat', 'route'],
            'a chat model or a route',
          );
        }
        if (aggregate.strategy === 'judge') return 'string';
        if (aggregate.strategy === 'concat') return 'any';
        return types[0] ?? 'any';
      }
      case 'map': {
        const { maxFanOut } = this.#options.limits;
        if ((step.concurrency ?? 4) > maxFanOut) {
          this.#issue(`${field}.concurrency`, `${named}: ${step.concurrency ?? 4} at once; at most ${maxFanOut}`);
        }
        this.#expression(step.over, `${field}.over`, scope, named, ['array', 'documents', 'vectors'], 'a list');
        const inner = new Map(scope);
        inner.set(step.as ?? 'item', 'any');
        inner.set('index', 'any');
        await this.#list(step.steps, `${field}.steps`, inner, depth + 1);
        return 'array';
      }
      case 'transform':
        this.#expression(step.expression, `${field}.expression`, scope, named);
        return 'any';
      case 'http': {
        const refusal =
          this.#options.http === undefined ? 'http steps are not enabled' : this.#options.http.refusal(step.url);
        if (refusal !== undefined) this.#issue(`${field}.url`, `${named}: ${refusal}`);
        if (step.body !== undefined) this.#expression(step.body, `${field}.body`, scope, named);
        return 'any';
      }
      case 'pipeline': {
        if (step.input !== undefined) this.#expression(step.input, `${field}.input`, scope, named);
        await this.#nested(step.pipeline, `${field}.pipeline`, named, [this.#options.name], depth + 1);
        return 'any';
      }
    }
  }

  /** A nested pipeline exists and, followed through its own nested steps, never comes back to one on `stack`. */
  async #nested(ref: string, field: string, named: string, stack: string[], depth: number): Promise<void> {
    const { pipelines, projectId, limits } = this.#options;
    let name: string;
    try {
      name = parsePipelineRef(ref, field).name;
    } catch (error) {
      this.#issue(field, `${named}: ${(error as Error).message.replace(`${field}: `, '')}`);
      return;
    }
    if (stack.includes(name)) {
      this.#issue(field, `${named}: calls '${name}', which forms a cycle: ${[...stack, name].join(' → ')}`);
      return;
    }
    if (depth > limits.maxDepth) {
      this.#issue(
        field,
        `${named}: pipelines nest more than ${limits.maxDepth} levels: ${[...stack, name].join(' → ')}`,
      );
      return;
    }
    const resolved = pipelines === undefined ? undefined : await pipelines.resolve(projectId, ref);
    if (resolved === undefined) {
      this.#issue(field, `${named}: names no pipeline of project '${projectId}': '${ref}'`);
      return;
    }
    for (const nested of nestedRefs(resolved.definition.steps)) {
      await this.#nested(nested, field, named, [...stack, name], depth + 1);
    }
  }

  /** A JSON Schema the executor can check values against (checked here, so a run never meets a bad one). */
  #jsonSchema(schema: Record<string, unknown>, field: string, named: string | undefined): void {
    try {
      z.fromJSONSchema(schema as never);
    } catch (error) {
      this.#issue(
        field,
        `${named === undefined ? '' : `${named}: `}not a JSON Schema Ensemble can check: ${(error as Error).message}`,
      );
    }
  }

  async #model(ref: string, field: string, named: string, kinds: string[], as: string): Promise<void> {
    const models = this.#options.models;
    if (models === undefined) return;
    const kind = await models.kindOf(this.#options.projectId, ref);
    if (kind === undefined) {
      this.#issue(field, `${named}: names no model or route of project '${this.#options.projectId}': '${ref}'`);
    } else if (!kinds.includes(kind)) {
      this.#issue(field, `${named}: '${ref}' is ${kind === 'route' ? 'a route' : `a ${kind} model`}, not ${as}`);
    }
  }

  #template(template: string, field: string, scope: Map<string, ValueType>, named: string): void {
    for (const path of templatePaths(template)) this.#reads(path, field, scope, named);
  }

  /** Checks an expression parses and, when it is a plain path, that it reads something written earlier of a fitting type. */
  #expression(
    source: string,
    field: string,
    scope: Map<string, ValueType>,
    named: string | undefined,
    accepts?: ValueType[],
    as?: string,
  ): ValueType {
    let path: readonly string[] | undefined;
    try {
      path = compileExpression(source, field).path;
    } catch (error) {
      this.#issue(
        field,
        `${named === undefined ? '' : `${named}: `}${(error as Error).message.replace(`${field}: `, '')}`,
      );
      return 'any';
    }
    if (path === undefined) return 'any';
    const type = this.#reads(path, field, scope, named);
    if (type === undefined || path.length > 1 || accepts === undefined) return 'any';
    if (type !== 'any' && !accepts.includes(type)) {
      this.#issue(field, `${named ?? 'the output'}: reads '${path[0]}', ${describe(type)}, where it needs ${as}`);
    }
    return type;
  }

  #reads(
    path: readonly string[],
    field: string,
    scope: Map<string, ValueType>,
    named: string | undefined,
  ): ValueType | undefined {
    const root = path[0] as string;
    const type = scope.get(root);
    if (type === undefined) {
      this.#issue(
        field,
        `${named === undefined ? '' : `${named}: `}reads '${root}', which no earlier step writes (steps run in order; the input is 'input')`,
      );
    }
    return type;
  }
}

function describe(type: ValueType): string {
  const names: Record<ValueType, string> = {
    string: 'a string',
    object: 'an object',
    vector: 'an embedding vector',
    vectors: 'a list of embedding vectors',
    documents: 'a list of retrieved documents',
    classification: 'a classification',
    array: 'a list',
    any: 'anything',
  };
  return names[type];
}

/** The nested pipelines a definition calls, at any depth of its steps. */
export function nestedRefs(steps: readonly Step[]): string[] {
  const refs: string[] = [];
  const visit = (step: Step) => {
    if (step.fallback !== undefined) visit(step.fallback);
    if (step.kind === 'pipeline') refs.push(step.pipeline);
    else if (step.kind === 'branch') {
      for (const list of Object.values(step.cases)) list.forEach(visit);
      step.default?.forEach(visit);
    } else if (step.kind === 'parallel') step.branches.forEach(visit);
    else if (step.kind === 'map') step.steps.forEach(visit);
  };
  steps.forEach(visit);
  return refs;
}
