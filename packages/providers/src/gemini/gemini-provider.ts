import type { ModelKind, ModelProvider, RuntimeContext, RuntimeSpec } from '@ensemble/core';
import { ChatGoogleGenerativeAI, GoogleGenerativeAIEmbeddings } from '@langchain/google-genai';
import { z } from 'zod';
import { honourCallSampling } from '../shared/call-sampling.ts';
import { callSettingsShape, chatParametersShape } from '../shared/call-settings.ts';
import { createHostedRuntime } from '../shared/hosted-runtime.ts';
import { parseSpecField } from '../shared/parse-spec-field.ts';
import { probeHttp } from '../shared/probe-http.ts';
import { requireKind } from '../shared/require-kind.ts';
import { requireSecret } from '../shared/require-secret.ts';
import { sendClientThrough } from './fetch-scope.ts';
import { settleStreamResponse } from './settle-stream-response.ts';

export const geminiDefaultBaseUrl = 'https://generativelanguage.googleapis.com';

const geminiOptions = z.strictObject({
  ...callSettingsShape,
  apiVersion: z.enum(['v1beta', 'v1']).default('v1beta'),
});

const geminiChatParameters = z.strictObject({
  ...chatParametersShape,
  topK: z.number().int().positive().optional(),
});

const geminiEmbeddingParameters = z.strictObject({
  taskType: z
    .enum(['RETRIEVAL_QUERY', 'RETRIEVAL_DOCUMENT', 'SEMANTIC_SIMILARITY', 'CLASSIFICATION', 'CLUSTERING'])
    .optional(),
});

/** The SDK's TaskType enum, whose string values the schema above lists. */
type GeminiTaskType = NonNullable<
  NonNullable<ConstructorParameters<typeof GoogleGenerativeAIEmbeddings>[0]>['taskType']
>;

const kinds: readonly ModelKind[] = ['chat', 'embedding'];

/** Google's Gemini API (generativelanguage.googleapis.com) with an API key: chat and embeddings. */
export const geminiProvider: ModelProvider = {
  id: 'gemini',
  kinds,
  async createRuntime(spec: RuntimeSpec, context: RuntimeContext) {
    requireKind('gemini', kinds, spec);
    const options = parseSpecField(geminiOptions, spec.options, 'options', spec.name);
    const apiKey = requireSecret('gemini', spec, context);
    const baseUrl = (spec.baseUrl ?? geminiDefaultBaseUrl).replace(/\/$/, '');
    const call = { provider: 'gemini', model: spec.name, secret: apiKey };
    // GET /{version}/models/{id}: proves key and model without spending tokens.
    const probe = (signal: AbortSignal) =>
      probeHttp(
        `${baseUrl}/${options.apiVersion}/models/${encodeURIComponent(spec.providerModelId)}`,
        { 'x-goog-api-key': apiKey },
        signal,
        context.fetch,
      );

    if (spec.kind === 'embedding') {
      const parameters = parseSpecField(geminiEmbeddingParameters, spec.parameters, 'parameters', spec.name);
      const embeddings = new GoogleGenerativeAIEmbeddings({
        model: spec.providerModelId,
        apiKey,
        baseUrl,
        maxRetries: options.maxRetries,
        ...(parameters.taskType === undefined ? {} : { taskType: parameters.taskType as GeminiTaskType }),
      });
      if (context.fetch !== undefined) {
        sendClientThrough(Reflect.get(embeddings, 'client'), ['embedContent', 'batchEmbedContents'], context.fetch);
      }
      return createHostedRuntime({ kind: 'embedding', embeddings, probe, call, timeoutMs: options.timeoutMs });
    }
    const parameters = parseSpecField(geminiChatParameters, spec.parameters, 'parameters', spec.name);
    const { maxTokens, stop, ...sampling } = parameters;
    const chat = new ChatGoogleGenerativeAI({
      model: spec.providerModelId,
      apiKey,
      baseUrl,
      apiVersion: options.apiVersion,
      maxRetries: options.maxRetries,
      ...sampling,
      ...(maxTokens === undefined ? {} : { maxOutputTokens: maxTokens }),
      ...(stop === undefined ? {} : { stopSequences: stop }),
    });
    settleStreamResponse(chat);
    if (context.fetch !== undefined) {
      // `client` is private in the typings; these are the SDK calls LangChain makes for chat.
      sendClientThrough(
        Reflect.get(chat, 'client'),
        ['generateContent', 'generateContentStream', 'countTokens'],
        context.fetch,
      );
    }
    // ChatGoogleGenerativeAI reads even stop sequences from itself only.
    honourCallSampling(chat, {
      temperature: 'temperature',
      maxTokens: 'maxOutputTokens',
      topP: 'topP',
      stop: 'stopSequences',
    });
    return createHostedRuntime({ kind: 'chat', chat, probe, call, timeoutMs: options.timeoutMs });
  },
};
