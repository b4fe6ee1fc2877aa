import type { EmbeddingLineage } from './collection.ts';

/**
 * Embeds texts with a registered model, resolving a ref (`name`, `name@3`, `name:alias`) to the exact
 * version that answered. Backed by the model runtimes; pipelines and the gateway use the same models.
 */
export interface TextEmbedder {
  resolve(projectId: string, ref: string, field: string): Promise<EmbeddingLineage>;
  embed(
    projectId: string,
    lineage: EmbeddingLineage,
    texts: readonly string[],
    signal?: AbortSignal,
  ): Promise<number[][]>;
}
