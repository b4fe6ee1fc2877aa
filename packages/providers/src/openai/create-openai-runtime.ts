import type { ModelRuntime, RuntimeSpec } from '@ensemble/core';
import { ChatOpenAI, ChatOpenAICompletions, ChatOpenAIResponses, OpenAIEmbeddings } from '@langchain/openai';
import { commonSamplingFields, honourCallSampling } from '../shared/call-sampling.ts';
import { createHostedRuntime } from '../shared/hosted-runtime.ts';
import { parseSpecField } from '../shared/parse-spec-field.ts';
import { probeHttp } from '../shared/probe-http.ts';
import { openAiChatParameters, openAiEmbeddingParameters } from './openai-parameters.ts';
import { openAiWireChatDefaults, openAiWireEmbeddingDefaults } from './openai-wire-defaults.ts';

/** How to reach an OpenAI-style API; OpenAI itself and OpenAI-compatible servers differ only here. */
export interface OpenAiConnection {
  providerId: string;
  /** Ends in `/v1` (or whatever prefix the server uses); the SDK appends `/chat/completions`. */
  baseUrl: string;
  apiKey: string;
  /** Servers without authentication get no Authorization header at all. */
  sendAuthorization: boolean;
  headers: Record<string, string>;
  timeoutMs: number;
  maxRetries: number;
  /** `base64` is what the SDK asks for by default; some OpenAI-compatible servers only do `float`. */
  embeddingEncoding: 'base64' | 'float' | undefined;
  /** The cheap call `health` makes: `models/<id>` where supported, else `models`. */
  probePath: string;
  /** The HTTP calls and probes go through (`RuntimeContext.fetch`: the outbound guard's); global fetch when absent. */
  fetch?: typeof fetch | undefined;
}

/** The SDK always sends `Authorization: Bearer <key>`; a keyless server must not see the placeholder. */
function withoutAuthorization(send: typeof fetch): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.delete('authorization');
    return send(input, { ...init, headers });
  };
}

function clientConfiguration(connection: OpenAiConnection) {
  const send = connection.fetch ?? fetch;
  return {
    baseURL: connection.baseUrl,
    defaultHeaders: connection.headers,
    ...(connection.sendAuthorization
      ? connection.fetch === undefined
        ? {}
        : { fetch: send }
      : { fetch: withoutAuthorization(send) }),
  };
}

/** Builds the runtime both `openai` and `openai-compatible` return. */
export function createOpenAiRuntime(spec: RuntimeSpec, connection: OpenAiConnection): ModelRuntime {
  const call = { provider: connection.providerId, model: spec.name, secret: connection.apiKey };
  const common = {
    model: spec.providerModelId,
    apiKey: connection.apiKey,
    timeout: connection.timeoutMs,
    maxRetries: connection.maxRetries,
    configuration: clientConfiguration(connection),
  };
  const authorization: Record<string, string> = connection.sendAuthorization
    ? { authorization: `Bearer ${connection.apiKey}` }
    : {};
  // The gateway's pass-through: the same server, credential and headers, without the SDK.
  const wire = {
    baseUrl: connection.baseUrl.replace(/\/$/, ''),
    query: '',
    headers: { ...connection.headers, ...authorization },
    model: spec.providerModelId,
    floatEmbeddingsOnly: connection.embeddingEncoding === 'float',
    timeoutMs: connection.timeoutMs,
  };
  const probe = (signal: AbortSignal) =>
    probeHttp(
      `${connection.baseUrl.replace(/\/$/, '')}/${connection.probePath}`,
      { ...connection.headers, ...authorization },
      signal,
      connection.fetch,
    );

  if (spec.kind === 'embedding') {
    const parameters = parseSpecField(openAiEmbeddingParameters, spec.parameters, 'parameters', spec.name);
    const embeddings = new OpenAIEmbeddings({
      ...common,
      ...(parameters.dimensions === undefined ? {} : { dimensions: parameters.dimensions }),
      ...(parameters.batchSize === undefined ? {} : { batchSize: parameters.batchSize }),
      ...(connection.embeddingEncoding === undefined ? {} : { encodingFormat: connection.embeddingEncoding }),
    });
    return createHostedRuntime({
      kind: 'embedding',
      embeddings,
      probe,
      call,
      timeoutMs: connection.timeoutMs,
      openAiWire: { ...wire, chatDefaults: {}, embeddingDefaults: openAiWireEmbeddingDefaults(parameters) },
    });
  }
  const parameters = parseSpecField(openAiChatParameters, spec.parameters, 'parameters', spec.name);
  const fields = {
    ...common,
    ...parameters,
    // Usage arrives in the last streamed chunk only when asked for (stream_options.include_usage).
    streamUsage: true,
  };
  // ChatOpenAI hands every call to one of these two; given here, they also survive `withConfig`
  // (`bindTools`), which builds a new ChatOpenAI from the same fields.
  const chat = new ChatOpenAI({
    ...fields,
    completions: honourCallSampling(new ChatOpenAICompletions(fields), commonSamplingFields),
    responses: honourCallSampling(new ChatOpenAIResponses(fields), commonSamplingFields),
  });
  return createHostedRuntime({
    kind: 'chat',
    chat,
    probe,
    call,
    timeoutMs: connection.timeoutMs,
    openAiWire: { ...wire, chatDefaults: openAiWireChatDefaults(parameters), embeddingDefaults: {} },
  });
}
