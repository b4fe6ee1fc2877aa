import type { ModelProvider } from '@ensemble/core';
import { anthropicProvider } from './anthropic/anthropic-provider.ts';
import { azureOpenAiProvider } from './azure-openai/azure-openai-provider.ts';
import { bedrockProvider } from './bedrock/bedrock-provider.ts';
import { geminiProvider } from './gemini/gemini-provider.ts';
import { openAiProvider } from './openai/openai-provider.ts';
import { openAiCompatibleProvider } from './openai-compatible/openai-compatible-provider.ts';

export {
  anthropicProvider,
  azureOpenAiProvider,
  bedrockProvider,
  geminiProvider,
  openAiCompatibleProvider,
  openAiProvider,
};

/** Every provider that calls a model over the network; the local provider is registered on its own. */
export const hostedProviders: readonly ModelProvider[] = [
  openAiProvider,
  openAiCompatibleProvider,
  anthropicProvider,
  bedrockProvider,
  geminiProvider,
  azureOpenAiProvider,
];
