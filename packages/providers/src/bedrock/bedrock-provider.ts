import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import type { ModelKind, ModelProvider, RuntimeContext, RuntimeSpec } from '@ensemble/core';
import { ChatBedrockConverse } from '@langchain/aws';
import { FetchHttpHandler } from '@smithy/fetch-http-handler';
import { z } from 'zod';
import { commonSamplingFields, honourCallSampling } from '../shared/call-sampling.ts';
import { callSettingsShape, chatParametersShape } from '../shared/call-settings.ts';
import { createHostedRuntime } from '../shared/hosted-runtime.ts';
import { parseSpecField } from '../shared/parse-spec-field.ts';
import { requireKind } from '../shared/require-kind.ts';
import { bedrockClientAuth } from './bedrock-client-auth.ts';
import { BedrockTitanEmbeddings } from './bedrock-embeddings.ts';

const bedrockOptions = z.strictObject({
  ...callSettingsShape,
  /** e.g. `us-east-1`; Bedrock models and inference profiles are regional. */
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region such as us-east-1'),
});

// Converse takes stop sequences per call only, so they are not a model default here.
const { stop: _stop, ...converseParameterShape } = chatParametersShape;
const bedrockChatParameters = z.strictObject(converseParameterShape);

const bedrockEmbeddingParameters = z.strictObject({
  dimensions: z.union([z.literal(256), z.literal(512), z.literal(1024)]).optional(),
  normalize: z.boolean().optional(),
});

const kinds: readonly ModelKind[] = ['chat', 'embedding'];

/**
 * AWS Bedrock: chat through the Converse API (any Converse model or inference profile id), Titan
 * text embeddings through InvokeModel. `spec.baseUrl` overrides the endpoint (VPC endpoints).
 */
export const bedrockProvider: ModelProvider = {
  id: 'bedrock',
  kinds,
  async createRuntime(spec: RuntimeSpec, context: RuntimeContext) {
    requireKind('bedrock', kinds, spec);
    const options = parseSpecField(bedrockOptions, spec.options, 'options', spec.name);
    const client = new BedrockRuntimeClient({
      region: options.region,
      ...(spec.baseUrl === undefined ? {} : { endpoint: spec.baseUrl }),
      ...bedrockClientAuth(context.secret),
      maxAttempts: options.maxRetries + 1,
      // Given the outbound port (the SSRF guard's fetch), the SDK sends through it instead of node:https.
      requestHandler:
        context.fetch === undefined
          ? { requestTimeout: options.timeoutMs }
          : new FetchHttpHandler({ requestTimeout: options.timeoutMs, customFetch: context.fetch }),
    });
    const call = { provider: 'bedrock', model: spec.name, secret: context.secret };
    const close = () => client.destroy();

    if (spec.kind === 'embedding') {
      const parameters = parseSpecField(bedrockEmbeddingParameters, spec.parameters, 'parameters', spec.name);
      const embeddings = new BedrockTitanEmbeddings({ client, model: spec.providerModelId, ...parameters });
      return createHostedRuntime({
        kind: 'embedding',
        embeddings,
        probe: () => embeddings.embedQuery('ping'),
        close,
        call,
        timeoutMs: options.timeoutMs,
      });
    }
    const parameters = parseSpecField(bedrockChatParameters, spec.parameters, 'parameters', spec.name);
    const chat = new ChatBedrockConverse({
      model: spec.providerModelId,
      region: options.region,
      client,
      ...parameters,
    });
    return createHostedRuntime({
      kind: 'chat',
      chat: honourCallSampling(chat, commonSamplingFields),
      // Bedrock has no free per-model call in the runtime API; one output token is the cheapest proof.
      probe: (signal) =>
        client.send(
          new ConverseCommand({
            modelId: spec.providerModelId,
            messages: [{ role: 'user', content: [{ text: 'ping' }] }],
            inferenceConfig: { maxTokens: 1 },
          }),
          { abortSignal: signal },
        ),
      close,
      call,
      timeoutMs: options.timeoutMs,
    });
  },
};
