import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { toEnsembleError, type UpstreamCallContext } from './to-ensemble-error.ts';

/**
 * Makes every failure of a LangChain chat model an EnsembleError from the catalogue. invoke, batch,
 * stream, bindTools and withStructuredOutput all end in `_generate` or `_streamResponseChunks`, so
 * wrapping those two on the instance covers every call path without subclassing each provider's class.
 */
export function guardChatModel<Model extends BaseChatModel>(model: Model, context: UpstreamCallContext): Model {
  const generate = model._generate.bind(model);
  model._generate = async (messages, options, runManager) => {
    try {
      return await generate(messages, options, runManager);
    } catch (error) {
      throw toEnsembleError(error, context);
    }
  };
  // LangChain falls back to invoke when a class does not stream; keep that check working.
  if (model._streamResponseChunks === BaseChatModel.prototype._streamResponseChunks) return model;
  const stream = model._streamResponseChunks.bind(model);
  model._streamResponseChunks = async function* guardedStream(messages, options, runManager) {
    try {
      yield* stream(messages, options, runManager);
    } catch (error) {
      throw toEnsembleError(error, context);
    }
  };
  return model;
}
