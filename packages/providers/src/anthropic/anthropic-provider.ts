import type { ModelKind, ModelProvider, RuntimeContext, RuntimeSpec } from '@ensemble/core';
import { ChatAnthropic } from '@langchain/anthropic';
import { z } from 'zod';
import { commonSamplingFields, honourCallSampling } from '../shared/call-sampling.ts';
import { callSettingsShape, chatParametersShape } from '../shared/call-settings.ts';
import { createHostedRuntime } from '../shared/hosted-runtime.ts';
import { parseSpecField } from '../shared/parse-spec-field.ts';
import { probeHttp } from '../shared/probe-http.ts';
import { requireKind } from '../shared/require-kind.ts';
import { requireSecret } from '../shared/require-secret.ts';

export const anthropicDefaultBaseUrl = 'https://api.anthropic.com';
/** The Messages API version every request names (`anthropic-version`); the SDK sends the same. */
const anthropicVersion = '2023-06-01';

const anthropicOptions = z.strictObject({ ...callSettingsShape });

const anthropicParameters = z.strictObject({
  ...chatParametersShape,
  // Anthropic's temperature stops at 1.
  temperature: z.number().min(0).max(1).optional(),
  topK: z.number().int().positive().optional(),
});

const kinds: readonly ModelKind[] = ['chat'];

/** Anthropic's Messages API (chat only: Anthropic has no embeddings endpoint). */
export const anthropicProvider: ModelProvider = {
  id: 'anthropic',
  kinds,
  async createRuntime(spec: RuntimeSpec, context: RuntimeContext) {
    requireKind('anthropic', kinds, spec);
    const options = parseSpecField(anthropicOptions, spec.options, 'options', spec.name);
    const parameters = parseSpecField(anthropicParameters, spec.parameters, 'parameters', spec.name);
    const apiKey = requireSecret('anthropic', spec, context);
    const baseUrl = (spec.baseUrl ?? anthropicDefaultBaseUrl).replace(/\/$/, '');
    const { stop, ...sampling } = parameters;
    const chat = new ChatAnthropic({
      model: spec.providerModelId,
      apiKey,
      anthropicApiUrl: baseUrl,
      maxRetries: options.maxRetries,
      clientOptions: {
        timeout: options.timeoutMs,
        maxRetries: options.maxRetries,
        // The outbound guard's fetch, when the runtime was given one.
        ...(context.fetch === undefined ? {} : { fetch: context.fetch }),
      },
      ...sampling,
    });
    return createHostedRuntime({
      kind: 'chat',
      // Default stop sequences go in per call: ChatAnthropic refuses a call's stop next to its own.
      chat: honourCallSampling(
        chat,
        { ...commonSamplingFields, stop: 'stopSequences' },
        stop === undefined ? {} : { stop },
      ),
      // GET /v1/models/{id}: proves key and model without spending tokens.
      probe: (signal) =>
        probeHttp(
          `${baseUrl}/v1/models/${encodeURIComponent(spec.providerModelId)}`,
          { 'x-api-key': apiKey, 'anthropic-version': anthropicVersion },
          signal,
          context.fetch,
        ),
      call: { provider: 'anthropic', model: spec.name, secret: apiKey },
      timeoutMs: options.timeoutMs,
    });
  },
};
