import { z } from 'zod';

/**
 * A route's semantic cache (opt-in, on the route's top node): answers to chat prompts close enough in
 * meaning to an earlier one of the same project and route are served again, without an upstream call.
 */
export interface SemanticCachePolicy {
  enabled: boolean;
  /** Cosine similarity of the prompts' embeddings from which the stored answer is served. */
  threshold: number;
  /** How long an answer is served. */
  ttlMs: number;
  /** The embedding model prompts are embedded with (a registry name or ref of the project). */
  embeddingModel: string;
}

export interface SemanticCachePolicyInput {
  enabled?: boolean;
  threshold?: number;
  ttlMs?: number;
  embeddingModel: string;
}

export const semanticCachePolicySchema: z.ZodType<SemanticCachePolicy, SemanticCachePolicyInput> = z.strictObject({
  enabled: z.boolean().default(true),
  threshold: z.number().min(0.5).max(1).default(0.95),
  ttlMs: z
    .number()
    .int()
    .min(1_000)
    .max(30 * 24 * 3_600_000)
    .default(3_600_000),
  embeddingModel: z.string().trim().min(1).max(300),
});
