import {
  type ModelKind,
  type ModelProvider,
  type RuntimeContext,
  type RuntimeSpec,
  validationError,
} from '@ensemble/core';
import { z } from 'zod';
import { createOpenAiRuntime } from '../openai/create-openai-runtime.ts';
import { callSettingsShape } from '../shared/call-settings.ts';
import { parseSpecField } from '../shared/parse-spec-field.ts';
import { requireKind } from '../shared/require-kind.ts';

const compatibleOptions = z.strictObject({
  ...callSettingsShape,
  /** Extra headers some hosts want (e.g. an org header); never put the key here, use a credential. */
  headers: z.record(z.string(), z.string()).default({}),
  /**
   * The openai SDK asks for base64 embeddings by default; servers that ignore `encoding_format`
   * (some llama.cpp and Ollama versions) need `float`.
   */
  embeddingEncoding: z.enum(['base64', 'float']).default('base64'),
});

const kinds: readonly ModelKind[] = ['chat', 'embedding'];

/** The SDK needs some key; a server without authentication never sees it (no Authorization header). */
const noKeyPlaceholder = 'ensemble-no-key';

/**
 * Any server that speaks OpenAI's chat completions and embeddings API, found by `spec.baseUrl`
 * (e.g. `http://localhost:8000/v1` for vLLM, `http://localhost:11434/v1` for Ollama, llama.cpp's
 * server, LM Studio, Together, Groq). The credential is optional.
 */
export const openAiCompatibleProvider: ModelProvider = {
  id: 'openai-compatible',
  kinds,
  async createRuntime(spec: RuntimeSpec, context: RuntimeContext) {
    requireKind('openai-compatible', kinds, spec);
    const options = parseSpecField(compatibleOptions, spec.options, 'options', spec.name);
    const baseUrl = spec.baseUrl;
    if (baseUrl === undefined || !URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
      throw validationError(
        'baseUrl',
        `an http(s) URL of the server's OpenAI API, e.g. http://localhost:8000/v1 (model '${spec.name}')`,
      );
    }
    const secret = context.secret !== undefined && context.secret.length > 0 ? context.secret : undefined;
    return createOpenAiRuntime(spec, {
      providerId: 'openai-compatible',
      baseUrl,
      apiKey: secret ?? noKeyPlaceholder,
      sendAuthorization: secret !== undefined,
      headers: options.headers,
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      // Left to LangChain when base64: it asks for base64 itself and decodes it; set explicitly, it would not.
      embeddingEncoding: options.embeddingEncoding === 'float' ? 'float' : undefined,
      // Not every server has GET /models/{id} (llama.cpp does not); all of them list models.
      probePath: 'models',
      fetch: context.fetch,
    });
  },
};
