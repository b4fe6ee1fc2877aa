import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BaseChatModelParams,
} from '@langchain/core/language_models/chat_models';
import { AIMessage, AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import type { ChatAnswer, ChatRequest, ChatTurn } from './llama-chat-backend.ts';
import type { ReplicaPool } from './replica-pool.ts';

export interface LocalChatCallOptions extends BaseChatModelCallOptions {
  maxTokens?: number;
  temperature?: number;
  seed?: number;
}

export interface LocalChatModelOptions extends BaseChatModelParams {
  pool: ReplicaPool;
  /** The registry name, reported as the model in LangChain traces. */
  model: string;
  maxTokens: number;
  temperature: number;
}

/**
 * LangChain chat model over a pool of llama.cpp replicas. Streaming is real: each piece of text the
 * replica decodes becomes one `ChatGenerationChunk` as soon as it arrives.
 */
export class LocalChatModel extends BaseChatModel<LocalChatCallOptions> {
  readonly model: string;
  private readonly pool: ReplicaPool;
  private readonly maxTokens: number;
  private readonly temperature: number;

  constructor(options: LocalChatModelOptions) {
    super({ maxRetries: 0, ...options });
    this.pool = options.pool;
    this.model = options.model;
    this.maxTokens = options.maxTokens;
    this.temperature = options.temperature;
  }

  static override lc_name(): string {
    return 'LocalChatModel';
  }

  override _llmType(): string {
    return 'ensemble-local-llama';
  }

  async _generate(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    const answer = await this.pool.call<ChatAnswer>('chat', this.request(messages, options), {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onChunk: (text) => void runManager?.handleLLMNewToken(text as string),
    });
    return {
      generations: [
        {
          text: answer.text,
          message: new AIMessage({
            content: answer.text,
            usage_metadata: usageOf(answer),
            response_metadata: meta(answer),
          }),
        },
      ],
      llmOutput: { tokenUsage: usageOf(answer) },
    };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const pieces: string[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const call = this.pool
      .call<ChatAnswer>('chat', this.request(messages, options), {
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        onChunk: (text) => {
          pieces.push(text as string);
          wake?.();
        },
      })
      .finally(() => {
        done = true;
        wake?.();
      });
    // Surface a failure through `await call` below, not as an unhandled rejection meanwhile.
    call.catch(() => {});
    while (true) {
      const text = pieces.shift();
      if (text !== undefined) {
        yield new ChatGenerationChunk({ text, message: new AIMessageChunk({ content: text }) });
        await runManager?.handleLLMNewToken(text);
        continue;
      }
      if (done) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    const answer = await call;
    yield new ChatGenerationChunk({
      text: '',
      message: new AIMessageChunk({ content: '', usage_metadata: usageOf(answer), response_metadata: meta(answer) }),
    });
  }

  private request(messages: BaseMessage[], options: this['ParsedCallOptions']): ChatRequest {
    return {
      messages: messages.map(toTurn),
      maxTokens: options.maxTokens ?? this.maxTokens,
      temperature: options.temperature ?? this.temperature,
      stop: options.stop ?? [],
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    };
  }
}

function toTurn(message: BaseMessage): ChatTurn {
  const type = message.getType();
  const role = type === 'system' ? 'system' : type === 'ai' ? 'assistant' : 'user';
  return { role, content: message.text };
}

function usageOf(answer: ChatAnswer) {
  return {
    input_tokens: answer.promptTokens,
    output_tokens: answer.completionTokens,
    total_tokens: answer.promptTokens + answer.completionTokens,
  };
}

function meta(answer: ChatAnswer) {
  return { finish_reason: answer.stopReason === 'maxTokens' ? 'length' : 'stop' };
}
