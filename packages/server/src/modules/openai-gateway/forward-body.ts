import type { OpenAiWireTarget } from '@ensemble/core';

/**
 * The body sent to an OpenAI-wire upstream: the client's request as it came, the registry
 * version's defaults under it, the upstream's model id in `model`. Ensemble's own use of
 * `metadata` (routing, the ledger) is not forwarded unless the client asks OpenAI to `store`
 * the completion (OpenAI refuses `metadata` otherwise). For streams, `askUsage` adds
 * `stream_options.include_usage` so the ledger gets token counts (taken out again on the way back).
 */
export function forwardedChatBody(
  request: Readonly<Record<string, unknown>>,
  wire: OpenAiWireTarget,
  askUsage: boolean,
): string {
  const body: Record<string, unknown> = { ...wire.chatDefaults, ...request, model: wire.model };
  if (body.metadata !== undefined && body.store !== true) delete body.metadata;
  if (askUsage) {
    const options = request.stream_options;
    body.stream_options = { ...(typeof options === 'object' && options !== null ? options : {}), include_usage: true };
  }
  return JSON.stringify(body);
}

/** The embeddings body; `encoding_format` is `float` for servers that only answer floats. */
export function forwardedEmbeddingsBody(request: Readonly<Record<string, unknown>>, wire: OpenAiWireTarget): string {
  const body: Record<string, unknown> = { ...wire.embeddingDefaults, ...request, model: wire.model };
  if (wire.floatEmbeddingsOnly) body.encoding_format = 'float';
  return JSON.stringify(body);
}
