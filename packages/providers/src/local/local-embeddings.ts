import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings';
import { DynamicBatcher } from './dynamic-batcher.ts';
import type { ReplicaPool } from './replica-pool.ts';

export interface LocalEmbeddingsOptions extends EmbeddingsParams {
  pool: ReplicaPool;
  dimensions: number;
  /** Concurrent requests within this window are embedded in one model call; 0 turns batching off. */
  batchWindowMs: number;
  maxBatchSize: number;
  /** Model calls the pool runs at once; idle capacity sends a request without waiting. */
  maxInFlight: number;
}

/**
 * LangChain `Embeddings` over a pool of replicas of a local sentence embedder. Concurrent callers
 * share model calls through dynamic batching; a large document list is split into batches.
 */
export class LocalEmbeddings extends Embeddings {
  readonly dimensions: number;
  private readonly pool: ReplicaPool;
  private readonly maxBatchSize: number;
  private readonly batcher: DynamicBatcher<string, number[]> | undefined;
  private readonly calls = { calls: 0, texts: 0 };

  constructor(options: LocalEmbeddingsOptions) {
    // Retries belong to the caller's policy, not here: a full queue must surface as 429 at once.
    super({ maxRetries: 0, ...options });
    this.pool = options.pool;
    this.dimensions = options.dimensions;
    this.maxBatchSize = options.maxBatchSize;
    this.batcher =
      options.batchWindowMs > 0
        ? new DynamicBatcher({
            windowMs: options.batchWindowMs,
            maxBatchSize: options.maxBatchSize,
            maxInFlight: options.maxInFlight,
            run: (texts) => this.callModel(texts),
          })
        : undefined;
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    if (this.batcher !== undefined) return this.batcher.submit(documents);
    const parts: Promise<number[][]>[] = [];
    for (let start = 0; start < documents.length; start += this.maxBatchSize) {
      parts.push(this.callModel(documents.slice(start, start + this.maxBatchSize)));
    }
    return (await Promise.all(parts)).flat();
  }

  /** Model calls made and texts sent in them: texts ÷ calls is the batch size batching achieved. */
  callStats(): { calls: number; texts: number } {
    return { ...this.calls };
  }

  private callModel(texts: string[]): Promise<number[][]> {
    this.calls.calls += 1;
    this.calls.texts += texts.length;
    return this.pool.call<number[][]>('embed', texts);
  }

  async embedQuery(document: string): Promise<number[]> {
    const [vector] = await this.embedDocuments([document]);
    if (vector === undefined) throw new Error('the embedder returned no vector');
    return vector;
  }
}
