import { z } from 'zod';

/**
 * A pipeline definition: what users write (JSON or YAML), validated by `pipelineDefinitionSchema`
 * for its shape and by `validatePipeline` for what needs the registry (models, nested pipelines,
 * reads of state no earlier step writes, types between steps, limits).
 *
 * Steps run in order over the run's **state**: `{input, <step output>...}`. Each step writes its
 * result under its `output` key (its `id` by default); expressions read the state.
 */

/** A step id: also its default state key, so it must be a plain identifier. */
export const stepIdSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be an identifier: letters, digits, _ (at most 64, not a digit first)');

/** A JSONata expression over the state (`input.text`, `$count(chunks)`), or a plain dotted path. */
export const expressionSchema = z.string().trim().min(1).max(4_000);

export const stepRetrySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(10).default(1),
  delayMs: z.number().int().min(0).max(60_000).default(0),
});

export const stepCacheSchema = z.strictObject({
  /** How long a result is reused for the same inputs (same step, same state). */
  ttlMs: z.number().int().min(1).max(86_400_000),
});

export const modelParamsSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().min(1).max(32_768).optional(),
  topP: z.number().min(0).max(1).optional(),
  stop: z.array(z.string().max(64)).max(4).optional(),
});
export type ModelParams = z.infer<typeof modelParamsSchema>;

export const aggregateStrategies = ['concat', 'vote', 'first-success', 'fastest', 'judge'] as const;
export type AggregateStrategy = (typeof aggregateStrategies)[number];

interface StepCommon {
  id: string;
  /** State key the result is written to (default: the id). */
  output?: string | undefined;
  description?: string | undefined;
  /** Bounds one attempt of the step. */
  timeoutMs?: number | undefined;
  retry?: z.infer<typeof stepRetrySchema> | undefined;
  /** Run when every attempt failed; its result is written under this step's output key. */
  fallback?: Step | undefined;
  cache?: z.infer<typeof stepCacheSchema> | undefined;
}

export interface PromptStep extends StepCommon {
  kind: 'prompt';
  /** `{{path}}` placeholders are filled from the state. */
  template: string;
}

export interface ModelStep extends StepCommon {
  kind: 'model';
  /** A registry model (`name`, `name@2`, `name:alias`) or a route. */
  model: string;
  /** The user message as a template (`{{input.text}}`)... */
  prompt?: string | undefined;
  /** ...or an expression giving a string or OpenAI-style messages. */
  input?: string | undefined;
  system?: string | undefined;
  params?: ModelParams | undefined;
  /** A JSON Schema the answer must match: the model is asked for JSON and the answer parsed and checked. */
  schema?: Record<string, unknown> | undefined;
}

export interface EmbedStep extends StepCommon {
  kind: 'embed';
  model: string;
  /** A string (one vector) or an array of strings (one vector each). */
  input: string;
}

export interface RetrieveStep extends StepCommon {
  kind: 'retrieve';
  collection: string;
  /** The query text. */
  query: string;
  topK: number;
  filter?: Record<string, unknown> | undefined;
}

export interface ClassifyStep extends StepCommon {
  kind: 'classify';
  model: string;
  input: string;
}

export interface BranchStep extends StepCommon {
  kind: 'branch';
  /** Its value (as a string) picks the case: a classifier result's `label` is used when it is one. */
  on: string;
  cases: Record<string, Step[]>;
  default?: Step[] | undefined;
}

export interface ParallelStep extends StepCommon {
  kind: 'parallel';
  branches: Step[];
  aggregate: {
    strategy: AggregateStrategy;
    /** `judge`: the model that picks (or merges) the answers. */
    model?: string | undefined;
    /** `judge`: `pick` answers one of the candidates as it is, `merge` answers the judge's own text. */
    mode?: 'pick' | 'merge' | undefined;
    instruction?: string | undefined;
  };
}

export interface MapStep extends StepCommon {
  kind: 'map';
  /** An expression giving an array. */
  over: string;
  /** The item's name in the sub-steps' state (default `item`); `index` is set too. */
  as?: string | undefined;
  /** The sub-pipeline run for each item; its last step's result is the item's result. */
  steps: Step[];
  concurrency?: number | undefined;
}

export interface TransformStep extends StepCommon {
  kind: 'transform';
  /** JSONata: no code, no file system, no network. */
  expression: string;
}

export interface HttpStep extends StepCommon {
  kind: 'http';
  url: string;
  method?: 'GET' | 'POST' | undefined;
  /** `POST`: an expression giving the JSON body. */
  body?: string | undefined;
}

export interface NestedPipelineStep extends StepCommon {
  kind: 'pipeline';
  /** `name`, `name@3` or `name:alias`. */
  pipeline: string;
  /** An expression giving the nested pipeline's input (default: this run's input). */
  input?: string | undefined;
}

export type Step =
  | PromptStep
  | ModelStep
  | EmbedStep
  | RetrieveStep
  | ClassifyStep
  | BranchStep
  | ParallelStep
  | MapStep
  | TransformStep
  | HttpStep
  | NestedPipelineStep;

export type StepKind = Step['kind'];
export const stepKinds: readonly StepKind[] = [
  'prompt',
  'model',
  'embed',
  'retrieve',
  'classify',
  'branch',
  'parallel',
  'map',
  'transform',
  'http',
  'pipeline',
];

const modelRef = z.string().trim().min(1).max(300);
const template = z.string().min(1).max(20_000);

const common = {
  id: stepIdSchema,
  output: stepIdSchema.optional(),
  description: z.string().max(1_000).optional(),
  timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  retry: stepRetrySchema.optional(),
  fallback: z.lazy(() => stepSchema).optional(),
  cache: stepCacheSchema.optional(),
};

const stepList = () =>
  z
    .array(z.lazy(() => stepSchema))
    .min(1)
    .max(256);

const kindSchemas = [
  z.strictObject({ ...common, kind: z.literal('prompt'), template }),
  z
    .strictObject({
      ...common,
      kind: z.literal('model'),
      model: modelRef,
      prompt: template.optional(),
      input: expressionSchema.optional(),
      system: template.optional(),
      params: modelParamsSchema.optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
    })
    .refine((step) => (step.prompt === undefined) !== (step.input === undefined), {
      message: 'needs exactly one of prompt (a template) or input (an expression)',
      path: ['prompt'],
    }),
  z.strictObject({ ...common, kind: z.literal('embed'), model: modelRef, input: expressionSchema }),
  z.strictObject({
    ...common,
    kind: z.literal('retrieve'),
    collection: z.string().trim().min(1).max(200),
    query: expressionSchema,
    topK: z.number().int().min(1).max(100).default(4),
    filter: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({ ...common, kind: z.literal('classify'), model: modelRef, input: expressionSchema }),
  z.strictObject({
    ...common,
    kind: z.literal('branch'),
    on: expressionSchema,
    cases: z
      .record(z.string().min(1).max(200), z.lazy(stepList))
      .refine((cases) => Object.keys(cases).length >= 1, 'needs at least one case'),
    default: z.lazy(stepList).optional(),
  }),
  z
    .strictObject({
      ...common,
      kind: z.literal('parallel'),
      branches: z.lazy(stepList),
      aggregate: z.strictObject({
        strategy: z.enum(aggregateStrategies),
        model: modelRef.optional(),
        mode: z.enum(['pick', 'merge']).optional(),
        instruction: template.optional(),
      }),
    })
    .refine((step) => step.aggregate.strategy !== 'judge' || step.aggregate.model !== undefined, {
      message: 'the judge strategy needs a model',
      path: ['aggregate', 'model'],
    }),
  z.strictObject({
    ...common,
    kind: z.literal('map'),
    over: expressionSchema,
    as: stepIdSchema.optional(),
    steps: z.lazy(stepList),
    concurrency: z.number().int().min(1).max(64).optional(),
  }),
  z.strictObject({ ...common, kind: z.literal('transform'), expression: expressionSchema }),
  z.strictObject({
    ...common,
    kind: z.literal('http'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2_000),
    method: z.enum(['GET', 'POST']).optional(),
    body: expressionSchema.optional(),
  }),
  z.strictObject({
    ...common,
    kind: z.literal('pipeline'),
    pipeline: z.string().trim().min(1).max(300),
    input: expressionSchema.optional(),
  }),
] as const;

export const stepSchema: z.ZodType<Step> = z.lazy(() =>
  z.discriminatedUnion('kind', kindSchemas as never, {
    error: (issue) =>
      issue.code === 'invalid_union' ? `unknown step kind; one of ${stepKinds.join(', ')}` : undefined,
  }),
) as unknown as z.ZodType<Step>;

export const pipelineDefinitionSchema = z.strictObject({
  description: z.string().max(2_000).optional(),
  /** A JSON Schema of the run's input (an object); checked before the run starts. */
  input: z.record(z.string(), z.unknown()).optional(),
  steps: z.lazy(stepList),
  /** An expression over the final state (default: the last step's result). */
  output: expressionSchema.optional(),
  /** Bounds the whole run (default: the configured run timeout). */
  timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
});

export interface PipelineDefinition {
  description?: string | undefined;
  input?: Record<string, unknown> | undefined;
  steps: Step[];
  output?: string | undefined;
  timeoutMs?: number | undefined;
}

/** The state key a step writes. */
export function outputKeyOf(step: Step): string {
  return step.output ?? step.id;
}
