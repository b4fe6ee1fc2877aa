import { z } from 'zod';
import { chatParametersShape } from '../shared/call-settings.ts';

/** Chat defaults for OpenAI-style APIs (OpenAI, OpenAI-compatible servers, Azure OpenAI). */
export const openAiChatParameters = z.strictObject({
  ...chatParametersShape,
  frequencyPenalty: z.number().min(-2).max(2).optional(),
  presencePenalty: z.number().min(-2).max(2).optional(),
});

export const openAiEmbeddingParameters = z.strictObject({
  /** Only `text-embedding-3-*` models can shorten their vectors. */
  dimensions: z.number().int().positive().optional(),
  batchSize: z.number().int().positive().max(2048).optional(),
});

export type OpenAiChatParameters = z.output<typeof openAiChatParameters>;
export type OpenAiEmbeddingParameters = z.output<typeof openAiEmbeddingParameters>;
