import { z } from 'zod';

const text = z.string().min(1).max(1_000_000);

/** `POST /v1/embeddings`: text inputs only (token-id arrays are refused by validation). */
export const embeddingsRequestSchema = z.object({
  model: z.string().min(1).max(300),
  input: z.union([text, z.array(text).min(1).max(2_048)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().max(1_000).optional(),
});

export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;
