import type { Embeddings } from '@langchain/core/embeddings';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { Runnable } from '@langchain/core/runnables';
import type { ModelKind } from './model-kind.ts';
import type { OpenAiWireTarget } from './openai-wire-target.ts';

/** One label and its score, best first. */
export interface ClassificationLabel {
  label: string;
  score: number;
}

/** The result of classifying one text: every label the model returns, best first. */
export type Classification = ClassificationLabel[];

/** A classifier is a LangChain Runnable too, so pipelines compose it like any other step. */
export type ClassifierRunnable = Runnable<string[], Classification[]>;

export interface ModelHealth {
  ok: boolean;
  latencyMs: number;
  error?: string;
  checkedAt: Date;
}

/**
 * What a provider builds from a registry entry: the LangChain object every caller (gateway,
 * pipelines, jobs) uses, whatever the model is or where it runs. Exactly one of `chat`,
 * `embeddings`, `classifier` is set, matching `kind`.
 */
export interface ModelRuntime {
  readonly kind: ModelKind;
  readonly chat?: BaseChatModel;
  readonly embeddings?: Embeddings;
  readonly classifier?: ClassifierRunnable;
  /**
   * Set by providers whose upstream speaks OpenAI's wire format: the gateway forwards OpenAI
   * requests to it directly (a pass-through) instead of going through `chat` / `embeddings`.
   */
  readonly openAiWire?: OpenAiWireTarget;
  /** A cheap real call (or a reachability probe for hosted models), bounded by `signal`. */
  health(signal: AbortSignal): Promise<ModelHealth>;
  /** Frees what the runtime holds (local model memory, worker threads, sockets). */
  dispose(): Promise<void>;
}
