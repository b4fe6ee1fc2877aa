import { modelStatuses } from '@ensemble/core';
import { z } from 'zod';

const text = z.string().max(1_000_000);

export const chatMessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: text,
});

/** Per-call sampling parameters; the registry version's `parameters` are the defaults. */
export const chatParametersSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().max(131_072).optional(),
  topP: z.number().min(0).max(1).optional(),
  stop: z.array(z.string().min(1).max(200)).max(16).optional(),
});

export type ChatParameters = z.infer<typeof chatParametersSchema>;

/**
 * One body for every kind, so that a body meant for another kind is answered with a 400 that says
 * which kind the model is: chat takes `messages` (and `parameters`, `stream`); embedding and
 * classifier models take `input`.
 */
export const invokeBodySchema = z
  .strictObject({
    messages: z.array(chatMessageSchema).min(1).max(1_000).optional(),
    parameters: chatParametersSchema.optional(),
    stream: z.boolean().optional(),
    input: z.union([text.min(1), z.array(text.min(1)).min(1).max(2_048)]).optional(),
  })
  .meta({
    id: 'InvokeBody',
    description:
      'Chat models: `{messages, parameters?, stream?}`. Embedding and classifier models: `{input}` (a string or an array of strings).',
  });

export type InvokeBody = z.infer<typeof invokeBodySchema>;

export const usageSchema = z
  .strictObject({ inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number() })
  .nullable();

export type Usage = z.infer<typeof usageSchema>;

const modelField = { model: z.string(), version: z.number().int() };

export const chatResultSchema = z.strictObject({
  message: z.strictObject({ role: z.literal('assistant'), content: z.string() }),
  usage: usageSchema,
  /** `stop`, `length` (maxTokens reached) … as the provider reports it. */
  finishReason: z.string().nullable(),
  ...modelField,
  latencyMs: z.number(),
});

export const embeddingResultSchema = z.strictObject({
  embeddings: z.array(z.array(z.number())),
  dimensions: z.number().int(),
  ...modelField,
  latencyMs: z.number(),
});

export const classifierResultSchema = z.strictObject({
  results: z.array(z.array(z.strictObject({ label: z.string(), score: z.number() }))),
  ...modelField,
  latencyMs: z.number(),
});

/** The answer of an invoke: which one depends on the model's kind. */
export const invokeResultSchema = z
  .union([chatResultSchema, embeddingResultSchema, classifierResultSchema])
  .meta({ id: 'InvokeResult' });

const healthRecordSchema = z.strictObject({
  version: z.number().int(),
  kind: z.string(),
  ok: z.boolean().nullable(),
  latencyMs: z.number().nullable(),
  checkedAt: z.iso.datetime().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.iso.datetime().nullable(),
  consecutiveFailures: z.number().int(),
});

export const healthReportSchema = z
  .strictObject({
    projectId: z.string(),
    name: z.string(),
    status: z.enum(modelStatuses),
    loaded: z.boolean(),
    runtimes: z.array(healthRecordSchema),
  })
  .meta({ id: 'ModelHealth' });

export const deployResultSchema = z.strictObject({
  projectId: z.string(),
  name: z.string(),
  version: z.number().int(),
  status: z.enum(modelStatuses),
});
