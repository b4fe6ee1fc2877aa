import type { ModelParams, PipelineDefinition } from './pipeline-definition.ts';

/** A chat message as pipelines pass them (OpenAI's roles). */
export interface PipelineMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What one model call cost and who answered. */
export interface ModelCallUsage {
  /** `name@version` of the model that answered. */
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
}

export interface PipelineChatCall {
  projectId: string;
  /** A registry model ref or a route. */
  model: string;
  messages: PipelineMessage[];
  params: ModelParams;
  /** Asks for a JSON answer (models that support it get JSON mode). */
  json: boolean;
  signal: AbortSignal;
  /** Given each token as it comes when set (the call is streamed). */
  onToken?: ((delta: string) => void) | undefined;
  /** For the usage ledger: the run and the step. */
  requestId: string;
}

/**
 * How pipelines call the registry's models. The composition root wires the gateway's call path (the
 * runtimes, routes, the usage ledger), so a pipeline's model calls are the same calls `/v1` makes.
 */
export interface PipelineModels {
  chat(call: PipelineChatCall): Promise<{ text: string; usage: ModelCallUsage }>;
  embed(call: {
    projectId: string;
    model: string;
    texts: string[];
    signal: AbortSignal;
    requestId: string;
  }): Promise<{ vectors: number[][]; usage: ModelCallUsage }>;
  classify(call: {
    projectId: string;
    model: string;
    text: string;
    signal: AbortSignal;
    requestId: string;
  }): Promise<{ labels: { label: string; score: number }[]; usage: ModelCallUsage }>;
  /** The kind of a model (or `route`), or undefined when the project has no such name (validation on save). */
  kindOf(projectId: string, ref: string): Promise<string | undefined>;
}

/** A document a retriever returns. */
export interface RetrievedDocument {
  id: string;
  text: string;
  score: number;
  metadata: Record<string, unknown>;
}

/** Where `retrieve` steps read from: the collections of the project (wired to the vector store). */
export interface PipelineRetriever {
  retrieve(call: {
    projectId: string;
    collection: string;
    query: string;
    topK: number;
    filter: Record<string, unknown> | undefined;
    signal: AbortSignal;
  }): Promise<RetrievedDocument[]>;
  /** Whether the project has the collection (validation on save). */
  exists(projectId: string, collection: string): Promise<boolean>;
}

/** `http` steps: only URLs the configuration allows are called (the adapter checks and bounds them). */
export interface PipelineHttp {
  request(call: { url: string; method: 'GET' | 'POST'; body: unknown; signal: AbortSignal }): Promise<unknown>;
  /** Why a URL is refused, or undefined when it is allowed. */
  refusal(url: string): string | undefined;
}

/** A stored pipeline version, as nested `pipeline` steps and the run API see it. */
export interface ResolvedPipeline {
  name: string;
  version: number;
  definition: PipelineDefinition;
}

/** Finds pipelines by ref (`name`, `name@3`, `name:alias`) in a project; undefined when there is none. */
export interface PipelineSource {
  resolve(projectId: string, ref: string): Promise<ResolvedPipeline | undefined>;
}
