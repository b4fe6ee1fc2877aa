import type { Embeddings } from '@langchain/core/embeddings';
import { toEnsembleError, type UpstreamCallContext } from './to-ensemble-error.ts';

/** Makes every failure of a LangChain embeddings object an EnsembleError from the catalogue. */
export function guardEmbeddings<Model extends Embeddings>(model: Model, context: UpstreamCallContext): Model {
  const embedDocuments = model.embedDocuments.bind(model);
  const embedQuery = model.embedQuery.bind(model);
  model.embedDocuments = async (documents) => {
    try {
      return await embedDocuments(documents);
    } catch (error) {
      throw toEnsembleError(error, context);
    }
  };
  model.embedQuery = async (document) => {
    try {
      return await embedQuery(document);
    } catch (error) {
      throw toEnsembleError(error, context);
    }
  };
  return model;
}
