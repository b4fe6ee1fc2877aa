import { EnsembleError } from '../errors/ensemble-error.ts';
import type { VectorStore } from '../vectors/vector-store.ts';

export interface SemanticCacheOptions {
  store: VectorStore;
  /** The store's index for the cache (made on first use); one per embedding model. */
  indexId: string;
  dimension: number;
  /** Embeds prompts (the gateway passes its embedding model). */
  embed(texts: readonly string[]): Promise<number[][]>;
  /** Cosine similarity from which a cached answer is served (e.g. 0.95). */
  threshold: number;
  ttlMs: number;
  now?: () => number;
}

export interface SemanticCacheKey {
  projectId: string;
  /** The model or route the answer came from: answers are never shared across models. */
  model: string;
  prompt: string;
}

export interface SemanticHit {
  answer: string;
  similarity: number;
}

/** Metadata holds the answer, so it must stay under Pinecone's 40 KB per vector. */
const maxAnswerBytes = 32_000;

/**
 * Answers to prompts close enough in meaning to earlier ones, per project and model, within a TTL:
 * prompts are embedded, stored in the embedded vector index (one namespace per project and model) with
 * the answer and its expiry as metadata; a lookup is a top-1 query restricted to unexpired entries.
 */
export class SemanticCache {
  readonly #options: SemanticCacheOptions;
  readonly #now: () => number;
  #ready: Promise<void> | undefined;
  #stores = 0;

  constructor(options: SemanticCacheOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async lookup(key: SemanticCacheKey): Promise<SemanticHit | undefined> {
    await this.#ensureIndex();
    const [vector] = await this.#options.embed([key.prompt]);
    const [best] = await this.#index().query({
      namespace: namespaceOf(key),
      vector: vector as number[],
      topK: 1,
      includeMetadata: true,
      filter: { expiresAt: { $gt: this.#now() } },
    });
    if (best === undefined || best.score < this.#options.threshold) return undefined;
    const answer = best.metadata?.answer;
    return typeof answer === 'string' ? { answer, similarity: best.score } : undefined;
  }

  async store(key: SemanticCacheKey, answer: string): Promise<void> {
    if (new TextEncoder().encode(answer).length > maxAnswerBytes) return;
    await this.#ensureIndex();
    const [vector] = await this.#options.embed([key.prompt]);
    const now = this.#now();
    const namespace = namespaceOf(key);
    await this.#index().upsert(
      [
        {
          id: await digest(key.prompt),
          values: vector as number[],
          metadata: { answer, expiresAt: now + this.#options.ttlMs },
        },
      ],
      namespace,
    );
    // Expired entries are swept now and then rather than on every write.
    if (++this.#stores % 100 === 0) await this.#index().delete({ namespace, filter: { expiresAt: { $lte: now } } });
  }

  #index() {
    return this.#options.store.index(this.#options.indexId);
  }

  #ensureIndex(): Promise<void> {
    this.#ready ??= this.#options.store
      .createIndex(this.#options.indexId, { dimension: this.#options.dimension, metric: 'cosine' })
      .catch((error: unknown) => {
        if (EnsembleError.isInstance(error) && error.code === 'conflict') return;
        this.#ready = undefined;
        throw error;
      });
    return this.#ready;
  }
}

function namespaceOf(key: SemanticCacheKey): string {
  return `${key.projectId}/${key.model}`;
}

async function digest(text: string): Promise<string> {
  const bytes = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}
