import {
  canonicalNamespace,
  checkMetadata,
  checkVectorId,
  checkVectorQuery,
  checkVectorRecords,
  checkVectorValues,
  compileMetadataFilter,
  type MetadataFilterInput,
  type VectorDeletion,
  type VectorIdPage,
  type VectorIndex,
  type VectorIndexSpec,
  type VectorIndexStats,
  type VectorMatch,
  type VectorMetadata,
  type VectorMetric,
  type VectorQuery,
  type VectorRecord,
  type VectorStore,
  type VectorUpdate,
  validationError,
  vectorLimits,
} from '@ensemble/core';
import { Pinecone } from '@pinecone-database/pinecone';
import { explicitEquality } from './explicit-equality.ts';
import { mapPineconeError } from './map-pinecone-error.ts';

export interface PineconeVectorStoreOptions {
  apiKey: string;
  /** Pinecone's control plane; another (e.g. Ensemble's own `/pinecone`) in tests. */
  controllerHostUrl?: string;
  /** Where new serverless indexes go. */
  cloud?: 'aws' | 'gcp' | 'azure';
  region?: string;
}

type SdkIndex = ReturnType<Pinecone['index']>;

/**
 * Collections stored in Pinecone through the official SDK. Inputs are checked here first with the same
 * rules as the embedded index (so errors name the same fields); SDK errors map to Ensemble's codes.
 */
export class PineconeVectorStore implements VectorStore {
  readonly #client: Pinecone;
  readonly #cloud: 'aws' | 'gcp' | 'azure';
  readonly #region: string;
  readonly #specs = new Map<string, Promise<VectorIndexSpec>>();

  constructor(options: PineconeVectorStoreOptions) {
    this.#client = new Pinecone({
      apiKey: options.apiKey,
      ...(options.controllerHostUrl === undefined ? {} : { controllerHostUrl: options.controllerHostUrl }),
      maxRetries: 2,
    });
    this.#cloud = options.cloud ?? 'aws';
    this.#region = options.region ?? 'us-east-1';
  }

  async createIndex(indexId: string, spec: VectorIndexSpec): Promise<void> {
    if (!Number.isInteger(spec.dimension) || spec.dimension < 1 || spec.dimension > vectorLimits.maxDimension) {
      throw validationError('dimension', `must be an integer from 1 to ${vectorLimits.maxDimension}`);
    }
    try {
      await this.#client.createIndex({
        name: indexId,
        dimension: spec.dimension,
        metric: spec.metric,
        spec: { serverless: { cloud: this.#cloud, region: this.#region } },
        waitUntilReady: true,
      });
    } catch (error) {
      throw mapPineconeError(error, `index '${indexId}'`);
    }
    this.#specs.set(indexId, Promise.resolve(spec));
  }

  async dropIndex(indexId: string): Promise<void> {
    this.#specs.delete(indexId);
    try {
      await this.#client.deleteIndex(indexId);
    } catch (error) {
      throw mapPineconeError(error, `index '${indexId}'`);
    }
  }

  index(indexId: string): VectorIndex {
    return new PineconeIndex(this.#client.index({ name: indexId }), indexId, () => this.#spec(indexId));
  }

  async close(): Promise<void> {}

  #spec(indexId: string): Promise<VectorIndexSpec> {
    let spec = this.#specs.get(indexId);
    if (spec === undefined) {
      spec = this.#client.describeIndex(indexId).then(
        (model) => ({ dimension: model.dimension as number, metric: model.metric as VectorMetric }),
        (error: unknown) => {
          this.#specs.delete(indexId);
          throw mapPineconeError(error, `index '${indexId}'`);
        },
      );
      this.#specs.set(indexId, spec);
    }
    return spec;
  }
}

class PineconeIndex implements VectorIndex {
  readonly #index: SdkIndex;
  readonly #name: string;
  readonly #spec: () => Promise<VectorIndexSpec>;

  constructor(index: SdkIndex, name: string, spec: () => Promise<VectorIndexSpec>) {
    this.#index = index;
    this.#name = name;
    this.#spec = spec;
  }

  async upsert(records: readonly VectorRecord[], namespace?: string): Promise<{ upsertedCount: number }> {
    checkVectorRecords(records, (await this.#spec()).dimension);
    await this.#call(() =>
      this.#in(namespace).upsert({
        records: records.map((r) => ({ id: r.id, values: r.values, ...(r.metadata ? { metadata: r.metadata } : {}) })),
      }),
    );
    return { upsertedCount: records.length };
  }

  async query(query: VectorQuery): Promise<VectorMatch[]> {
    const { dimension } = await this.#spec();
    checkVectorQuery(query, dimension);
    const shared = {
      topK: query.topK,
      includeValues: query.includeValues ?? false,
      includeMetadata: query.includeMetadata ?? false,
      ...(query.filter === undefined ? {} : { filter: explicitEquality(query.filter) }),
    };
    const answer = await this.#call(() =>
      this.#in(query.namespace).query(
        query.vector !== undefined ? { ...shared, vector: query.vector } : { ...shared, id: query.id as string },
      ),
    );
    return (answer.matches ?? []).map((m) => ({
      id: m.id,
      score: m.score ?? 0,
      ...(query.includeValues === true ? { values: m.values ?? [] } : {}),
      ...(query.includeMetadata === true && m.metadata !== undefined ? { metadata: m.metadata as VectorMetadata } : {}),
    }));
  }

  async fetch(ids: readonly string[], namespace?: string): Promise<VectorRecord[]> {
    checkIds(ids, vectorLimits.maxFetchIds);
    const answer = await this.#call(() => this.#in(namespace).fetch({ ids: [...ids] }));
    const found = answer.records ?? {};
    return Object.values(found)
      .map((r) => ({
        id: r.id,
        values: r.values ?? [],
        ...(r.metadata ? { metadata: r.metadata as VectorMetadata } : {}),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async update(update: VectorUpdate): Promise<void> {
    const { dimension } = await this.#spec();
    checkVectorId(update.id, 'id');
    if (update.values !== undefined) checkVectorValues(update.values, dimension, 'values');
    if (update.setMetadata !== undefined) checkMetadata(update.setMetadata, 'setMetadata');
    if (update.values === undefined && update.setMetadata === undefined) {
      throw validationError('values', 'send values, setMetadata or both');
    }
    await this.#call(
      () =>
        this.#in(update.namespace).update({
          id: update.id,
          ...(update.values === undefined ? {} : { values: update.values }),
          ...(update.setMetadata === undefined ? {} : { metadata: update.setMetadata }),
        }),
      `vector '${update.id}'`,
    );
  }

  async delete(deletion: VectorDeletion): Promise<void> {
    const index = this.#in(deletion.namespace);
    if ('deleteAll' in deletion) {
      await this.#call(() => index.deleteAll());
    } else if ('filter' in deletion) {
      compileMetadataFilter(deletion.filter);
      await this.#call(() => index.deleteMany({ filter: explicitEquality(deletion.filter) }));
    } else {
      checkIds(deletion.ids, vectorLimits.maxDeleteIds);
      await this.#call(() => index.deleteMany({ ids: [...deletion.ids] }));
    }
  }

  async listIds(options: {
    namespace?: string;
    prefix?: string;
    limit?: number;
    paginationToken?: string;
  }): Promise<VectorIdPage> {
    const answer = await this.#call(() =>
      this.#in(options.namespace).listPaginated({
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
        ...(options.paginationToken === undefined ? {} : { paginationToken: options.paginationToken }),
      }),
    );
    const ids = (answer.vectors ?? []).map((v) => v.id as string);
    const next = answer.pagination?.next;
    return next ? { ids, next } : { ids };
  }

  async stats(filter?: MetadataFilterInput): Promise<VectorIndexStats> {
    const spec = await this.#spec();
    if (filter !== undefined) compileMetadataFilter(filter);
    const answer = await this.#call(() =>
      filter === undefined
        ? this.#index.describeIndexStats()
        : this.#index.describeIndexStats({ filter: explicitEquality(filter) }),
    );
    const namespaces: Record<string, { vectorCount: number }> = {};
    for (const [name, summary] of Object.entries(answer.namespaces ?? {})) {
      if ((summary.recordCount ?? 0) > 0)
        namespaces[canonicalNamespace(name)] = { vectorCount: summary.recordCount ?? 0 };
    }
    return {
      dimension: spec.dimension,
      metric: spec.metric,
      totalVectorCount: answer.totalRecordCount ?? 0,
      namespaces,
    };
  }

  #in(namespace: string | undefined): SdkIndex {
    const name = canonicalNamespace(namespace);
    return name === '' ? this.#index : this.#index.namespace(name);
  }

  async #call<T>(operation: () => Promise<T>, what = `index '${this.#name}'`): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw mapPineconeError(error, what);
    }
  }
}

function checkIds(ids: readonly string[], max: number): void {
  if (!Array.isArray(ids) || ids.length === 0) throw validationError('ids', 'must hold at least one id');
  if (ids.length > max) throw validationError('ids', `at most ${max} ids per call, got ${ids.length}`);
  ids.forEach((id, i) => {
    checkVectorId(id, `ids[${i}]`);
  });
}
