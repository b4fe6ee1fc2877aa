import { z } from 'zod';

/**
 * What the gateway itself reads of `POST /v1/chat/completions`, checked on every request before
 * the model is known. Loose on purpose: every other field (and every nested one) is kept as sent,
 * so an OpenAI-wire upstream receives the request unchanged and judges it; requests for LangChain
 * runtimes are then checked in full against `chatCompletionRequestSchema`.
 */
export const chatCompletionEnvelopeSchema = z
  .looseObject({
    model: z.string().min(1).max(300),
    messages: z
      .array(z.looseObject({ role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']) }))
      .min(1)
      .max(10_000),
    stream: z.boolean().nullable().optional(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
    max_tokens: z.number().int().positive().nullable().optional(),
    max_completion_tokens: z.number().int().positive().nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    n: z.number().int().min(1).max(128).nullable().optional(),
    user: z.string().max(1_000).optional(),
    metadata: z.record(z.string(), z.string().max(512)).nullable().optional(),
  })
  .meta({ id: 'ChatCompletionRequest' });

export type ChatCompletionEnvelope = z.infer<typeof chatCompletionEnvelopeSchema>;

/** `POST /v1/embeddings`, as loose: `input` and the rest are the upstream's (or the full schema's) to judge. */
export const embeddingsEnvelopeSchema = z
  .looseObject({
    model: z.string().min(1).max(300),
    input: z.union([z.string(), z.array(z.unknown()).min(1).max(2_048)]),
    encoding_format: z.enum(['float', 'base64']).optional(),
  })
  .meta({ id: 'EmbeddingsRequest' });

export type EmbeddingsEnvelope = z.infer<typeof embeddingsEnvelopeSchema>;
