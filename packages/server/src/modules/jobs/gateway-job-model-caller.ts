import {
  EnsembleError,
  type JobModelAnswer,
  type JobModelCall,
  type JobModelCaller,
  type KindExpectation,
  type LoadedModel,
  type ModelRuntimeManager,
  type UsageRecorder,
} from '@ensemble/core';
import type { Agent } from 'undici';
import { completeChat } from '../openai-gateway/chat-target.ts';
import { embed } from '../openai-gateway/embeddings-target.ts';
import { ModelTargets } from '../openai-gateway/model-targets.ts';
import { createUpstreamDispatcher } from '../openai-gateway/upstream-dispatcher.ts';

const expectations: Record<JobModelCall['operation'], KindExpectation> = {
  chat: { kinds: ['chat'], as: 'a chat model', field: 'model' },
  embeddings: { kinds: ['embedding'], as: 'an embedding model', field: 'model' },
};

/**
 * Job items called the way `/v1` calls models: a pass-through over one keep-alive undici pool for
 * OpenAI-wire upstreams, LangChain for the rest, with the same checks and the same errors (a
 * refused request is a non-retryable `upstream_bad_request`, an outage a retryable `upstream_error`).
 * Names resolve through a 2 s cache, so a batch does not read the registry per item.
 */
export class GatewayJobModelCaller implements JobModelCaller {
  readonly #targets: ModelTargets;
  readonly #dispatcher: Agent;
  readonly #usage: UsageRecorder | undefined;

  /** With `usage`, every call leaves one usage event (endpoint `chat`/`embeddings`, the item as request id). */
  constructor(runtimes: ModelRuntimeManager, usage?: UsageRecorder) {
    this.#targets = new ModelTargets(runtimes);
    this.#dispatcher = createUpstreamDispatcher();
    this.#usage = usage;
  }

  async call(call: JobModelCall): Promise<JobModelAnswer> {
    const startedAt = Date.now();
    const started = performance.now();
    let loaded: LoadedModel | undefined;
    try {
      loaded = await this.#targets.resolve(call.projectId, call.model, expectations[call.operation]);
      const answer = await this.#call(loaded, call);
      this.#record(call, loaded, startedAt, started, answer, undefined);
      return answer;
    } catch (error) {
      this.#record(call, loaded, startedAt, started, undefined, error);
      throw error;
    }
  }

  async #call(loaded: LoadedModel, call: JobModelCall): Promise<JobModelAnswer> {
    const context = { dispatcher: this.#dispatcher, signal: call.signal, askStreamUsage: false };
    // The request as /v1 would have it; the pass-through swaps in the upstream's own model id.
    const body = { ...call.body, model: call.model };
    const answer =
      call.operation === 'chat' ? await completeChat(loaded, body, context) : await embed(loaded, body, context);
    let output: unknown;
    try {
      output = JSON.parse(answer.body.toString('utf8'));
    } catch (error) {
      throw new EnsembleError('upstream_error', `${loaded.descriptor.name} answered something that is not JSON`, {
        cause: error,
      });
    }
    if (typeof output !== 'object' || output === null || Array.isArray(output)) {
      throw new EnsembleError('upstream_error', `${loaded.descriptor.name} answered JSON that is not an object`);
    }
    const { inputTokens, outputTokens } = answer.usage;
    const pricing = loaded.descriptor.pricing;
    return {
      output: output as Record<string, unknown>,
      inputTokens,
      outputTokens,
      costUsd:
        pricing === undefined
          ? null
          : (inputTokens * pricing.inputPerMillionTokens + outputTokens * pricing.outputPerMillionTokens) / 1e6,
    };
  }

  #record(
    call: JobModelCall,
    loaded: LoadedModel | undefined,
    startedAt: number,
    started: number,
    answer: JobModelAnswer | undefined,
    error: unknown,
  ): void {
    if (this.#usage === undefined || call.usage === undefined) return;
    const failure = error === undefined ? undefined : EnsembleError.isInstance(error) ? error : undefined;
    this.#usage.record({
      requestId: call.usage.requestId,
      ts: new Date(startedAt).toISOString(),
      projectId: call.projectId,
      keyId: call.usage.keyId,
      endpoint: call.operation,
      requested: call.model,
      route: null,
      target: loaded === undefined ? null : `${loaded.descriptor.name}@${loaded.descriptor.version}`,
      provider: loaded?.descriptor.provider ?? null,
      inputTokens: answer?.inputTokens ?? 0,
      outputTokens: answer?.outputTokens ?? 0,
      costUsd: answer?.costUsd ?? null,
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
      timeToFirstTokenMs: null,
      stream: false,
      status: error === undefined ? 200 : (failure?.httpStatus ?? 500),
      errorCode: error === undefined ? null : (failure?.code ?? 'internal_error'),
      cacheHit: false,
      attempts: 1,
    });
  }

  /** Closes the upstream connections. */
  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}
