import type { Embeddings } from '@langchain/core/embeddings';
import { deadline, raceSignal } from './deadline.ts';
import { toEnsembleError, type UpstreamCallContext } from './to-ensemble-error.ts';

/**
 * Makes every failure of a LangChain embeddings object an EnsembleError from the catalogue, and bounds
 * each call by the runtime's timeout (Embeddings calls take no signal).
 */
export function guardEmbeddings<Model extends Embeddings>(
  model: Model,
  context: UpstreamCallContext,
  timeoutMs: number,
): Model {
  const embedDocuments = model.embedDocuments.bind(model);
  const embedQuery = model.embedQuery.bind(model);
  model.embedDocuments = async (documents) => {
    try {
      return await raceSignal(embedDocuments(documents), deadline(undefined, timeoutMs));
    } catch (error) {
      throw toEnsembleError(error, context);
    }
  };
  model.embedQuery = async (document) => {
    try {
      return await raceSignal(embedQuery(document), deadline(undefined, timeoutMs));
    } catch (error) {
      throw toEnsembleError(error, context);
    }
  };
  return model;
}
