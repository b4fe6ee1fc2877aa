import type { ModelKind, ModelProvider, RuntimeContext, RuntimeSpec } from '@ensemble/core';
import { z } from 'zod';
import { callSettingsShape } from '../shared/call-settings.ts';
import { parseSpecField } from '../shared/parse-spec-field.ts';
import { requireKind } from '../shared/require-kind.ts';
import { requireSecret } from '../shared/require-secret.ts';
import { createOpenAiRuntime } from './create-openai-runtime.ts';

export const openAiDefaultBaseUrl = 'https://api.openai.com/v1';

const openAiOptions = z.strictObject({
  ...callSettingsShape,
  organization: z.string().min(1).optional(),
  project: z.string().min(1).optional(),
});

const kinds: readonly ModelKind[] = ['chat', 'embedding'];

/** OpenAI's own API (chat completions and embeddings); `spec.baseUrl` may point at a proxy of it. */
export const openAiProvider: ModelProvider = {
  id: 'openai',
  kinds,
  async createRuntime(spec: RuntimeSpec, context: RuntimeContext) {
    requireKind('openai', kinds, spec);
    const options = parseSpecField(openAiOptions, spec.options, 'options', spec.name);
    const headers: Record<string, string> = {};
    if (options.organization !== undefined) headers['openai-organization'] = options.organization;
    if (options.project !== undefined) headers['openai-project'] = options.project;
    return createOpenAiRuntime(spec, {
      providerId: 'openai',
      baseUrl: spec.baseUrl ?? openAiDefaultBaseUrl,
      apiKey: requireSecret('openai', spec, context),
      sendAuthorization: true,
      headers,
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      embeddingEncoding: undefined,
      probePath: `models/${encodeURIComponent(spec.providerModelId)}`,
      fetch: context.fetch,
    });
  },
};
