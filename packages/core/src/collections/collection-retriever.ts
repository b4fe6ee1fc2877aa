import { EnsembleError } from '../errors/ensemble-error.ts';
import type { PipelineRetriever, RetrievedDocument } from '../pipelines/pipeline-ports.ts';
import { type CollectionService, textMetadataKey } from './collection-service.ts';

/** What pipelines' `retrieve` steps read through: a text search of a collection with its own model. */
export class CollectionRetriever implements PipelineRetriever {
  readonly #collections: CollectionService;

  constructor(collections: CollectionService) {
    this.#collections = collections;
  }

  async retrieve(call: {
    projectId: string;
    collection: string;
    query: string;
    topK: number;
    filter: Record<string, unknown> | undefined;
    signal: AbortSignal;
  }): Promise<RetrievedDocument[]> {
    const collection = await this.#collections.get(call.projectId, call.collection);
    const matches = await this.#collections.search(collection, {
      text: call.query,
      topK: call.topK,
      includeMetadata: true,
      signal: call.signal,
      ...(call.filter === undefined ? {} : { filter: call.filter }),
    });
    return matches.map((match) => {
      const { [textMetadataKey]: text, ...metadata } = match.metadata ?? {};
      return { id: match.id, text: typeof text === 'string' ? text : '', score: match.score, metadata };
    });
  }

  async exists(projectId: string, collection: string): Promise<boolean> {
    try {
      await this.#collections.get(projectId, collection);
      return true;
    } catch (error) {
      if (EnsembleError.isInstance(error) && error.code === 'not_found') return false;
      throw error;
    }
  }
}
