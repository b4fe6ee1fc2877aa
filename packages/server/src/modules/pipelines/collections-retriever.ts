import {
  type CollectionService,
  EnsembleError,
  type PipelineRetriever,
  type RetrievedDocument,
  textMetadataKey,
} from '@ensemble/core';

/**
 * `retrieve` steps over the project's collections: the query is embedded with the collection's own
 * model and searched in its index (embedded or Pinecone); each match's text comes from its metadata.
 */
export class CollectionsPipelineRetriever implements PipelineRetriever {
  readonly #collections: CollectionService;

  constructor(collections: CollectionService) {
    this.#collections = collections;
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

  async retrieve(call: {
    projectId: string;
    collection: string;
    query: string;
    topK: number;
    filter: Record<string, unknown> | undefined;
    signal: AbortSignal;
  }): Promise<RetrievedDocument[]> {
    call.signal.throwIfAborted();
    const collection = await this.#collections.get(call.projectId, call.collection);
    const matches = await this.#collections.search(collection, {
      text: call.query,
      topK: call.topK,
      ...(call.filter === undefined ? {} : { filter: call.filter as never }),
      includeMetadata: true,
    });
    return matches.map((match) => {
      const { [textMetadataKey]: text, ...metadata } = match.metadata ?? {};
      return { id: match.id, text: typeof text === 'string' ? text : '', score: match.score, metadata };
    });
  }
}
