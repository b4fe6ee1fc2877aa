import { EnsembleError } from '../errors/ensemble-error.ts';
import type { LoadedModel, ModelRuntimeManager } from '../models/model-runtime-manager.ts';
import type { EmbeddingLineage } from './collection.ts';
import type { TextEmbedder } from './text-embedder.ts';

/** Texts per embeddings call: local models batch them, hosted ones bill one request each. */
const batchSize = 64;

/** Embeds with the registry's models through their runtimes (local MiniLM works offline). */
export class RuntimeTextEmbedder implements TextEmbedder {
  readonly #runtimes: ModelRuntimeManager;

  constructor(runtimes: ModelRuntimeManager) {
    this.#runtimes = runtimes;
  }

  async resolve(projectId: string, ref: string, field: string): Promise<EmbeddingLineage> {
    const { descriptor } = await this.#load(projectId, ref, field);
    return { model: descriptor.name, version: descriptor.version };
  }

  async embed(
    projectId: string,
    lineage: EmbeddingLineage,
    texts: readonly string[],
    signal?: AbortSignal,
  ): Promise<number[][]> {
    const { runtime, descriptor } = await this.#load(projectId, `${lineage.model}@${lineage.version}`, 'model');
    const embeddings = runtime.embeddings;
    if (embeddings === undefined) {
      throw new EnsembleError('internal_error', `the runtime of model '${descriptor.name}' lacks embeddings`);
    }
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += batchSize) {
      signal?.throwIfAborted();
      out.push(...(await embeddings.embedDocuments(texts.slice(i, i + batchSize))));
    }
    return out;
  }

  #load(projectId: string, ref: string, field: string): Promise<LoadedModel> {
    return this.#runtimes.runtimeFor(projectId, ref, { kinds: ['embedding'], as: 'an embedding model', field });
  }
}
