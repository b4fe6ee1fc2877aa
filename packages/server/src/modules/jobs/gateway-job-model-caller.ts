import {
  EnsembleError,
  type JobModelAnswer,
  type JobModelCall,
  type JobModelCaller,
  type KindExpectation,
  type ModelRuntimeManager,
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

  constructor(runtimes: ModelRuntimeManager) {
    this.#targets = new ModelTargets(runtimes);
    this.#dispatcher = createUpstreamDispatcher();
  }

  async call(call: JobModelCall): Promise<JobModelAnswer> {
    const loaded = await this.#targets.resolve(call.projectId, call.model, expectations[call.operation]);
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

  /** Closes the upstream connections. */
  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}
