import { z } from 'zod';
import { jobPriorities } from './job.ts';

/** The most items one job may hold, whatever `JOBS_MAX_ITEMS` says. */
export const jobItemsCeiling = 1_000_000;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be the sha256 of an upload to /api/artifacts (64 hex digits)');

export const jobRetryPolicySchema = z
  .strictObject({
    maxAttempts: z.number().int().min(1).max(10).default(3),
    initialDelayMs: z.number().int().min(0).max(60_000).default(500),
    maxDelayMs: z.number().int().min(0).max(600_000).default(30_000),
  })
  .refine((retry) => retry.maxDelayMs >= retry.initialDelayMs, {
    path: ['maxDelayMs'],
    message: 'must be at least initialDelayMs',
  });

/** A URL Ensemble POSTs the job's signed summary to when it ends; credentials in it are refused. */
export const webhookUrlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2_000)
  .refine((url) => {
    // Runs even when the URL check above failed (found by schemathesis: `new URL('')` threw, a 500).
    if (!URL.canParse(url)) return true;
    const parsed = new URL(url);
    return parsed.username === '' && parsed.password === '';
  }, 'must not carry a user name or password (the payload is signed instead)');

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'must be 1-200 printable ASCII characters without spaces');

const metadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((metadata) => Object.keys(metadata).length <= 16, 'at most 16 keys');

/** What every job type takes besides its inputs and its target. */
const sharedFields = {
  priority: z.enum(jobPriorities).default('normal'),
  itemTimeoutMs: z.number().int().min(100).max(3_600_000).default(120_000),
  retry: jobRetryPolicySchema.prefault({}),
  /** The same key (in the same project) answers with the job it first created, instead of a second job. */
  idempotencyKey: idempotencyKeySchema.optional(),
  webhook: z.strictObject({ url: webhookUrlSchema }).optional(),
  metadata: metadataSchema.optional(),
  /** A JSONL file uploaded to `/api/artifacts`, one input per line, instead of `inputs`. */
  inputFile: sha256.optional(),
};

/** What model-calling jobs take besides their inputs. */
const commonFields = {
  /** A model name as the registry knows it (`m`, `m@2`, `m:prod`) or a route; pinned to its version at submission. */
  model: z.string().trim().min(1).max(300),
  ...sharedFields,
};

const customId = z.string().min(1).max(200);

/**
 * One request of a batch: the body of `/v1/chat/completions` (with `messages`) or `/v1/embeddings`
 * (with `input`) without `model`, which the job sets, and with an optional `customId` that the results
 * echo. What the model's kind needs is checked once the model is known (`batchItemOf`).
 */
export const batchRequestSchema = z.looseObject({ customId: customId.optional() });

/** One text to embed, or the text with a `customId` the results echo. */
export const embedInputSchema = z.union([
  z.string().min(1).max(1_000_000),
  z.strictObject({ customId: customId.optional(), text: z.string().min(1).max(1_000_000) }),
]);

const oneSource = (spec: { inputs?: unknown[] | undefined; inputFile?: string | undefined }, ctx: z.RefinementCtx) => {
  if ((spec.inputs === undefined) === (spec.inputFile === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'give either inputs or inputFile (exactly one)' });
  }
};

export const batchInferenceJobSpecSchema = z
  .strictObject({
    type: z.literal('batch-inference'),
    ...commonFields,
    inputs: z.array(batchRequestSchema).min(1).max(jobItemsCeiling).optional(),
  })
  .superRefine(oneSource);

export const embedJobSpecSchema = z
  .strictObject({
    type: z.literal('embed'),
    ...commonFields,
    inputs: z.array(embedInputSchema).min(1).max(jobItemsCeiling).optional(),
  })
  .superRefine(oneSource);

/**
 * A run of a pipeline per item: `pipeline` is `name`, `name@3` or `name:alias`, pinned to the version
 * it resolves to at submission (a bare name takes no canary share: every item runs one version). Each
 * item is `{"input": …, "customId"?: …}`; its input is checked against the pipeline's input schema
 * once the pipeline is known.
 */
export const pipelineRunJobSpecSchema = z
  .strictObject({
    type: z.literal('pipeline-run'),
    pipeline: z.string().trim().min(1).max(300),
    ...sharedFields,
    inputs: z
      .array(z.looseObject({ customId: customId.optional(), input: z.unknown() }))
      .min(1)
      .max(jobItemsCeiling)
      .optional(),
  })
  .superRefine(oneSource);

/** `POST /api/jobs`. */
export const jobSpecSchema = z.discriminatedUnion('type', [
  batchInferenceJobSpecSchema,
  embedJobSpecSchema,
  pipelineRunJobSpecSchema,
]);

export type BatchInferenceJobSpec = z.infer<typeof batchInferenceJobSpecSchema>;
export type EmbedJobSpec = z.infer<typeof embedJobSpecSchema>;
export type PipelineRunJobSpec = z.infer<typeof pipelineRunJobSpecSchema>;
export type JobSpec = BatchInferenceJobSpec | EmbedJobSpec | PipelineRunJobSpec;
export type JobSpecInput = z.input<typeof jobSpecSchema>;
