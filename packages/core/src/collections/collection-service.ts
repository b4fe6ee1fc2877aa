import { EnsembleError, validationError } from '../errors/ensemble-error.ts';
import type { Page } from '../ports/project-repository.ts';
import type { MetadataFilterInput } from '../vectors/metadata-filter.ts';
import type { VectorMetadata, VectorRecord } from '../vectors/vector-record.ts';
import type { VectorIndex, VectorIndexStats, VectorMatch, VectorStore } from '../vectors/vector-store.ts';
import type { Collection, CollectionBackend, EmbeddingLineage, NewCollection } from './collection.ts';
import type { CollectionRepository } from './collection-repository.ts';
import { maximalMarginalRelevance } from './maximal-marginal-relevance.ts';
import type { TextEmbedder } from './text-embedder.ts';

export interface CollectionServiceOptions {
  repository: CollectionRepository;
  /** The embedded store always; Pinecone only when configured. */
  stores: { embedded: VectorStore; pinecone?: VectorStore };
  embedder: TextEmbedder;
}

export interface TextRecord {
  id: string;
  text: string;
  metadata?: VectorMetadata;
}

export interface CollectionSearch {
  /** Exactly one of `text` (embedded with the collection's model) and `vector`. */
  text?: string;
  vector?: number[];
  topK: number;
  namespace?: string;
  filter?: MetadataFilterInput;
  includeValues?: boolean;
  includeMetadata?: boolean;
  /** When given, must be the collection's model (lineage): vectors from two models do not compare. */
  model?: string;
  /** Re-rank `fetchK` candidates for diversity (λ=1: relevance only, 0: diversity only). */
  mmr?: { lambda: number; fetchK: number };
  signal?: AbortSignal;
}

/** The metadata key a text record's text is kept under, so search results carry it. */
export const textMetadataKey = 'text';

/**
 * Collections: the registry row (name, backend, dimension, metric, embedding lineage) and the index
 * it names in its vector store, kept in step. Text goes in and out only through the collection's own
 * model at the version it was created with.
 */
export class CollectionService {
  readonly #repository: CollectionRepository;
  readonly #stores: CollectionServiceOptions['stores'];
  readonly #embedder: TextEmbedder;

  constructor(options: CollectionServiceOptions) {
    this.#repository = options.repository;
    this.#stores = options.stores;
    this.#embedder = options.embedder;
  }

  list(projectId: string, options: { limit: number; after?: string }): Promise<Page<Collection>> {
    return this.#repository.list(projectId, options);
  }

  get(projectId: string, name: string): Promise<Collection> {
    return this.#repository.get(projectId, name);
  }

  /** Live counts from the vector store. */
  stats(collection: Collection, filter?: MetadataFilterInput): Promise<VectorIndexStats> {
    return this.index(collection).stats(filter);
  }

  index(collection: Collection): VectorIndex {
    return this.#store(collection.backend, 'backend').index(collection.storageId);
  }

  async create(projectId: string, input: NewCollection, field = 'body'): Promise<Collection> {
    const store = this.#store(input.backend, `${field}.backend`);
    let embedding: EmbeddingLineage | null = null;
    let dimension = input.dimension;
    if (input.embeddingModel !== undefined) {
      embedding = await this.#embedder.resolve(projectId, input.embeddingModel, `${field}.embeddingModel`);
      const [probe] = await this.#embedder.embed(projectId, embedding, ['dimension probe']);
      const measured = probe?.length ?? 0;
      if (dimension !== undefined && dimension !== measured) {
        throw validationError(
          `${field}.dimension`,
          `is ${dimension} but model '${embedding.model}@${embedding.version}' answers ${measured} dimensions`,
        );
      }
      dimension = measured;
    }
    const storageId =
      input.backend === 'pinecone' ? `${projectId}-${input.name}`.slice(0, 45).replace(/-+$/, '') : crypto.randomUUID();
    const created = await this.#repository.create({
      projectId,
      name: input.name,
      backend: input.backend,
      dimension: dimension as number,
      metric: input.metric,
      embedding,
      storageId,
      description: input.description,
    });
    try {
      await store.createIndex(storageId, { dimension: created.dimension, metric: created.metric });
    } catch (error) {
      await this.#repository.delete(projectId, input.name).catch(() => undefined);
      throw error;
    }
    return created;
  }

  async delete(projectId: string, name: string): Promise<Collection> {
    const collection = await this.#repository.delete(projectId, name);
    await this.#store(collection.backend, 'backend')
      .dropIndex(collection.storageId)
      .catch((error: unknown) => {
        if (!(EnsembleError.isInstance(error) && error.code === 'not_found')) throw error;
      });
    return collection;
  }

  async upsertVectors(collection: Collection, records: readonly VectorRecord[], namespace?: string) {
    return this.index(collection).upsert(records, namespace);
  }

  /** Embeds the texts with the collection's model and upserts them, the text kept in metadata. */
  async upsertTexts(
    collection: Collection,
    records: readonly TextRecord[],
    options: { namespace?: string; model?: string; signal?: AbortSignal } = {},
  ): Promise<{ upsertedCount: number }> {
    const lineage = await this.#lineage(collection, options.model, 'records');
    const vectors = await this.#embedder.embed(
      collection.projectId,
      lineage,
      records.map((r) => r.text),
      options.signal,
    );
    return this.index(collection).upsert(
      records.map((record, i) => ({
        id: record.id,
        values: vectors[i] as number[],
        metadata: { ...record.metadata, [textMetadataKey]: record.text },
      })),
      options.namespace,
    );
  }

  async search(collection: Collection, search: CollectionSearch): Promise<VectorMatch[]> {
    if ((search.text === undefined) === (search.vector === undefined)) {
      throw validationError('body.text', 'send exactly one of text and vector');
    }
    let vector = search.vector;
    if (search.text !== undefined) {
      const lineage = await this.#lineage(collection, search.model, 'body.text');
      [vector] = await this.#embedder.embed(collection.projectId, lineage, [search.text], search.signal);
    }
    const index = this.index(collection);
    const base = {
      ...(search.namespace === undefined ? {} : { namespace: search.namespace }),
      ...(search.filter === undefined ? {} : { filter: search.filter }),
      vector: vector as number[],
      includeMetadata: search.includeMetadata ?? true,
    };
    if (search.mmr === undefined) {
      return index.query({ ...base, topK: search.topK, includeValues: search.includeValues ?? false });
    }
    const candidates = await index.query({
      ...base,
      topK: Math.max(search.mmr.fetchK, search.topK),
      includeValues: true,
    });
    const order = maximalMarginalRelevance(
      vector as number[],
      candidates.map((c) => c.values ?? []),
      search.topK,
      search.mmr.lambda,
    );
    return order.map((i) => {
      const match = candidates[i] as VectorMatch;
      if (search.includeValues === true) return match;
      const { values: _values, ...rest } = match;
      return rest;
    });
  }

  /** The collection's model; a different one named by the caller is refused (lineage). */
  async #lineage(collection: Collection, requested: string | undefined, field: string): Promise<EmbeddingLineage> {
    const own = collection.embedding;
    if (own === null) {
      throw validationError(
        field,
        `collection '${collection.name}' has no embedding model (it holds vectors only): send vectors instead of text`,
      );
    }
    if (requested !== undefined) {
      const asked = await this.#embedder.resolve(collection.projectId, requested, 'body.model');
      if (asked.model !== own.model || asked.version !== own.version) {
        throw validationError(
          'body.model',
          `collection '${collection.name}' holds vectors from '${own.model}@${own.version}'; texts embedded with '${asked.model}@${asked.version}' would not be comparable, so they are refused`,
          { collectionModel: `${own.model}@${own.version}`, requestedModel: `${asked.model}@${asked.version}` },
        );
      }
    }
    return own;
  }

  #store(backend: CollectionBackend, field: string): VectorStore {
    const store = this.#stores[backend];
    if (store === undefined) {
      throw validationError(
        field,
        `the ${backend} backend is not configured here (set PINECONE_API_KEY to use Pinecone)`,
      );
    }
    return store;
  }
}
