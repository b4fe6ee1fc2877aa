import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { deadline, raceSignal } from './deadline.ts';
import { toEnsembleError, type UpstreamCallContext } from './to-ensemble-error.ts';

/**
 * Makes every failure of a LangChain chat model an EnsembleError from the catalogue. invoke, batch,
 * stream, bindTools and withStructuredOutput all end in `_generate` or `_streamResponseChunks`, so
 * wrapping those two on the instance covers every call path without subclassing each provider's class.
 * Each call also gets the runtime's timeout, enforced here even where an SDK path ignores the signal.
 */
export function guardChatModel<Model extends BaseChatModel>(
  model: Model,
  context: UpstreamCallContext,
  timeoutMs: number,
): Model {
  const generate = model._generate.bind(model);
  model._generate = async (messages, options, runManager) => {
    const signal = deadline(options.signal, timeoutMs);
    try {
      return await raceSignal(generate(messages, { ...options, signal }, runManager), signal);
    } catch (error) {
      throw toEnsembleError(error, context);
    }
  };
  // ChatOpenAI's (and Azure's) withConfig — so bindTools and withStructuredOutput — builds a new
  // model from its constructor fields, without what is added here: guard that one too.
  const withConfig = model.withConfig.bind(model);
  model.withConfig = ((config: Parameters<Model['withConfig']>[0]) => {
    const configured = withConfig(config);
    return configured instanceof BaseChatModel && configured !== model
      ? guardChatModel(configured, context, timeoutMs)
      : configured;
  }) as Model['withConfig'];
  // LangChain falls back to invoke when a class does not stream; keep that check working.
  if (model._streamResponseChunks === BaseChatModel.prototype._streamResponseChunks) return model;
  const stream = model._streamResponseChunks.bind(model);
  model._streamResponseChunks = async function* guardedStream(messages, options, runManager) {
    try {
      yield* stream(messages, { ...options, signal: deadline(options.signal, timeoutMs) }, runManager);
    } catch (error) {
      throw toEnsembleError(error, context);
    }
  };
  return model;
}
