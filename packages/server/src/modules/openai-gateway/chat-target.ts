import type { LoadedModel } from '@ensemble/core';
import type { Dispatcher } from 'undici';
import { forwardedChatBody } from './forward-body.ts';
import { langChainChatJson, langChainChatStream } from './langchain-chat.ts';
import { passThroughJson, passThroughStream, type WireAnswer } from './pass-through.ts';
import { targetLabel } from './target-label.ts';

/** What one call to one target needs besides the model and the request. */
export interface TargetCallContext {
  dispatcher: Dispatcher;
  /** Aborts the upstream call (client gone, call or attempt timed out). */
  signal: AbortSignal;
  /** Ask OpenAI-wire upstreams for the stream's usage even when the client did not (for the ledger). */
  askStreamUsage: boolean;
}

/** Whether the stream will carry a usage chunk the client did not ask for (the writer takes it out). */
export function streamAddsUsage(loaded: LoadedModel, clientAsked: boolean, askStreamUsage: boolean): boolean {
  if (clientAsked) return false;
  return loaded.runtime.openAiWire === undefined || askStreamUsage;
}

/** A whole chat completion from one target: forwarded as it is to an OpenAI-wire upstream, else through LangChain. */
export function completeChat(
  loaded: LoadedModel,
  request: Readonly<Record<string, unknown>>,
  context: TargetCallContext,
): Promise<WireAnswer> {
  const wire = loaded.runtime.openAiWire;
  if (wire === undefined) return langChainChatJson(loaded, request, context.signal);
  return passThroughJson({
    dispatcher: context.dispatcher,
    wire,
    operation: 'chat/completions',
    body: forwardedChatBody(request, wire, false),
    signal: context.signal,
    target: targetLabel(loaded.descriptor),
  });
}

/** A streamed chat completion from one target, as OpenAI's chunk stream (bytes or text). */
export function streamChat(
  loaded: LoadedModel,
  request: Readonly<Record<string, unknown>>,
  context: TargetCallContext,
): Promise<AsyncIterable<Buffer | string>> {
  const wire = loaded.runtime.openAiWire;
  if (wire === undefined) return langChainChatStream(loaded, request, context.signal);
  const clientAsked =
    (request.stream_options as { include_usage?: unknown } | null | undefined)?.include_usage === true;
  return passThroughStream({
    dispatcher: context.dispatcher,
    wire,
    operation: 'chat/completions',
    body: forwardedChatBody(request, wire, context.askStreamUsage && !clientAsked),
    signal: context.signal,
    target: targetLabel(loaded.descriptor),
  });
}
