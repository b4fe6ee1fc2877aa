import {
  type ModelKind,
  type ModelProvider,
  type RuntimeContext,
  type RuntimeSpec,
  validationError,
} from '@ensemble/core';
import { AzureChatOpenAI, type AzureChatOpenAICompletions, AzureOpenAIEmbeddings } from '@langchain/openai';
import { z } from 'zod';
import { openAiChatParameters, openAiEmbeddingParameters } from '../openai/openai-parameters.ts';
import { openAiWireChatDefaults, openAiWireEmbeddingDefaults } from '../openai/openai-wire-defaults.ts';
import { commonSamplingFields, honourCallSampling } from '../shared/call-sampling.ts';
import { callSettingsShape } from '../shared/call-settings.ts';
import { createHostedRuntime } from '../shared/hosted-runtime.ts';
import { parseSpecField } from '../shared/parse-spec-field.ts';
import { probeHttp } from '../shared/probe-http.ts';
import { requireKind } from '../shared/require-kind.ts';
import { requireSecret } from '../shared/require-secret.ts';

const azureOptions = z.strictObject({
  ...callSettingsShape,
  /** `https://<resource>.openai.azure.com`; `spec.baseUrl` may give it instead. */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** The deployment name in the Azure resource; defaults to `providerModelId`. */
  deployment: z.string().min(1).optional(),
  /** e.g. `2024-10-21` (GA) or a `-preview` version; Azure requires one on every call. */
  apiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, 'a date like 2024-10-21 or 2025-04-01-preview'),
});

const kinds: readonly ModelKind[] = ['chat', 'embedding'];

/** Azure OpenAI: OpenAI's wire format at `{endpoint}/openai/deployments/{deployment}/…?api-version=…`, key in `api-key`. */
export const azureOpenAiProvider: ModelProvider = {
  id: 'azure-openai',
  kinds,
  async createRuntime(spec: RuntimeSpec, context: RuntimeContext) {
    requireKind('azure-openai', kinds, spec);
    const options = parseSpecField(azureOptions, spec.options, 'options', spec.name);
    const endpoint = (options.endpoint ?? spec.baseUrl)?.replace(/\/$/, '');
    if (endpoint === undefined) {
      throw validationError(
        'options.endpoint',
        `the Azure OpenAI resource URL, e.g. https://my-resource.openai.azure.com (model '${spec.name}')`,
      );
    }
    const apiKey = requireSecret('azure-openai', spec, context);
    const deployment = options.deployment ?? spec.providerModelId;
    const common = {
      azureOpenAIApiKey: apiKey,
      // The base path form works for both classes (AzureOpenAIEmbeddings ignores azureOpenAIEndpoint).
      azureOpenAIBasePath: `${endpoint}/openai/deployments`,
      azureOpenAIApiDeploymentName: deployment,
      azureOpenAIApiVersion: options.apiVersion,
      timeout: options.timeoutMs,
      maxRetries: options.maxRetries,
      // The outbound guard's fetch, when the runtime was given one.
      ...(context.fetch === undefined ? {} : { configuration: { fetch: context.fetch } }),
    };
    const call = { provider: 'azure-openai', model: spec.name, secret: apiKey };
    // The gateway's pass-through: the deployment's URL, the api-version on every call, the key in `api-key`.
    const wire = {
      baseUrl: `${endpoint}/openai/deployments/${encodeURIComponent(deployment)}`,
      query: `api-version=${encodeURIComponent(options.apiVersion)}`,
      headers: { 'api-key': apiKey },
      model: deployment,
      floatEmbeddingsOnly: false,
      timeoutMs: options.timeoutMs,
    };
    // GET /openai/models lists what the resource offers: proves endpoint and key without tokens.
    const probe = (signal: AbortSignal) =>
      probeHttp(
        `${endpoint}/openai/models?api-version=${encodeURIComponent(options.apiVersion)}`,
        { 'api-key': apiKey },
        signal,
        context.fetch,
      );

    if (spec.kind === 'embedding') {
      const parameters = parseSpecField(openAiEmbeddingParameters, spec.parameters, 'parameters', spec.name);
      const embeddings = new AzureOpenAIEmbeddings({
        ...common,
        azureOpenAIApiEmbeddingsDeploymentName: deployment,
        ...(parameters.dimensions === undefined ? {} : { dimensions: parameters.dimensions }),
        ...(parameters.batchSize === undefined ? {} : { batchSize: parameters.batchSize }),
      });
      return createHostedRuntime({
        kind: 'embedding',
        embeddings,
        probe,
        call,
        timeoutMs: options.timeoutMs,
        openAiWire: { ...wire, chatDefaults: {}, embeddingDefaults: openAiWireEmbeddingDefaults(parameters) },
      });
    }
    const parameters = parseSpecField(openAiChatParameters, spec.parameters, 'parameters', spec.name);
    const chat = new AzureChatOpenAI({ ...common, ...parameters, streamUsage: true });
    // Calls go to these two Azure delegates (protected in the typings), which the constructor builds
    // and keeps in the fields `withConfig` rebuilds from, so `bindTools` keeps them.
    for (const delegate of ['completions', 'responses'] as const) {
      honourCallSampling(Reflect.get(chat, delegate) as AzureChatOpenAICompletions, commonSamplingFields);
    }
    return createHostedRuntime({
      kind: 'chat',
      chat,
      probe,
      call,
      timeoutMs: options.timeoutMs,
      openAiWire: { ...wire, chatDefaults: openAiWireChatDefaults(parameters), embeddingDefaults: {} },
    });
  },
};
