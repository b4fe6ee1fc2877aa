import type { OpenAiChatParameters, OpenAiEmbeddingParameters } from './openai-parameters.ts';

/** Registry chat parameters (Ensemble's camelCase) in OpenAI's request field names, unset ones left out. */
export function openAiWireChatDefaults(parameters: OpenAiChatParameters): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    temperature: parameters.temperature,
    max_tokens: parameters.maxTokens,
    top_p: parameters.topP,
    stop: parameters.stop,
    frequency_penalty: parameters.frequencyPenalty,
    presence_penalty: parameters.presencePenalty,
  };
  for (const key of Object.keys(wire)) if (wire[key] === undefined) delete wire[key];
  return wire;
}

export function openAiWireEmbeddingDefaults(parameters: OpenAiEmbeddingParameters): Record<string, unknown> {
  return parameters.dimensions === undefined ? {} : { dimensions: parameters.dimensions };
}
