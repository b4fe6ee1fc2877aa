import { Document } from '@langchain/core/documents';
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers';
import type { MetadataFilterInput } from '../vectors/metadata-filter.ts';
import { CollectionRetriever } from './collection-retriever.ts';
import type { CollectionService } from './collection-service.ts';

export interface CollectionLangChainRetrieverInput extends BaseRetrieverInput {
  collections: CollectionService;
  projectId: string;
  collection: string;
  topK?: number;
  filter?: MetadataFilterInput;
}

/**
 * A LangChain retriever over a collection, for chains and graphs built on LangChain: each match is a
 * Document with the chunk's text as `pageContent`, its metadata plus `id` and `score`.
 */
export class CollectionLangChainRetriever extends BaseRetriever {
  lc_namespace = ['ensemble', 'collections'];
  readonly #retriever: CollectionRetriever;
  readonly #input: CollectionLangChainRetrieverInput;

  constructor(input: CollectionLangChainRetrieverInput) {
    super(input);
    this.#input = input;
    this.#retriever = new CollectionRetriever(input.collections);
  }

  override async _getRelevantDocuments(query: string): Promise<Document[]> {
    const found = await this.#retriever.retrieve({
      projectId: this.#input.projectId,
      collection: this.#input.collection,
      query,
      topK: this.#input.topK ?? 4,
      filter: this.#input.filter,
      signal: new AbortController().signal,
    });
    return found.map(
      (doc) =>
        new Document({
          id: doc.id,
          pageContent: doc.text,
          metadata: { ...doc.metadata, id: doc.id, score: doc.score },
        }),
    );
  }
}
