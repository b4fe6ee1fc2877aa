import type { ModelKind, ModelRuntime, OpenAiWireTarget } from '@ensemble/core';
import type { Embeddings } from '@langchain/core/embeddings';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { raceSignal } from './deadline.ts';
import { guardChatModel } from './guard-chat-model.ts';
import { guardEmbeddings } from './guard-embeddings.ts';
import { toEnsembleError, type UpstreamCallContext } from './to-ensemble-error.ts';

export interface HostedRuntimeParts {
  kind: ModelKind;
  chat?: BaseChatModel;
  embeddings?: Embeddings;
  /** The cheapest real call that proves the model answers with this credential. */
  probe(signal: AbortSignal): Promise<unknown>;
  /** Closes what the SDK client holds (AWS clients keep sockets); hosted HTTP clients mostly hold nothing. */
  close?(): void | Promise<void>;
  call: UpstreamCallContext;
  /** Bounds every call (`options.timeoutMs`). */
  timeoutMs: number;
  /** For upstreams speaking OpenAI's wire format: how the gateway reaches them directly. */
  openAiWire?: OpenAiWireTarget;
}

/** The ModelRuntime every hosted provider returns: guarded LangChain objects, a health probe, dispose. */
export function createHostedRuntime(parts: HostedRuntimeParts): ModelRuntime {
  let disposed = false;
  return {
    kind: parts.kind,
    ...(parts.chat === undefined ? {} : { chat: guardChatModel(parts.chat, parts.call, parts.timeoutMs) }),
    ...(parts.embeddings === undefined
      ? {}
      : { embeddings: guardEmbeddings(parts.embeddings, parts.call, parts.timeoutMs) }),
    ...(parts.openAiWire === undefined ? {} : { openAiWire: parts.openAiWire }),
    async health(signal) {
      const started = performance.now();
      try {
        await raceSignal(parts.probe(signal), signal);
        return { ok: true, latencyMs: performance.now() - started, checkedAt: new Date() };
      } catch (error) {
        const mapped = toEnsembleError(error, parts.call);
        return {
          ok: false,
          latencyMs: performance.now() - started,
          error: `${mapped.code}: ${mapped.message}`,
          checkedAt: new Date(),
        };
      }
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await parts.close?.();
    },
  };
}
