import { createHash } from 'node:crypto';
import {
  type EmbeddingLineage,
  SemanticCache,
  type SemanticCachePolicy,
  type TextEmbedder,
  type VectorStore,
} from '@ensemble/core';
import { requestFingerprint } from './cache-key.ts';

export interface SemanticAnswersOptions {
  /** The embedded vector index (one index per embedding model, a namespace per project and route). */
  store: VectorStore;
  /** Embeds prompts with the registry's embedding models. */
  embedder: TextEmbedder;
  /** How long a route's resolved cache (its embedding model's version) is reused. Default 30 s. */
  resolveTtlMs?: number;
}

/** An answer as kept: the `chat.completion` JSON, and the model that gave it. */
export interface SemanticAnswer {
  body: string;
  target: { name: string; version: number; provider: string };
}

export interface SemanticHitAnswer extends SemanticAnswer {
  similarity: number;
}

/**
 * The gateway's semantic caches: core's `SemanticCache` per project, embedding model version,
 * threshold and TTL (what a route's `semanticCache` says), over the embedded vector index (an index per
 * project and embedding model). Answers are kept per project, route and request shape (the namespace),
 * so neither another project nor another route, nor a request with other tools or sampling, sees them.
 */
export class SemanticAnswers {
  readonly #options: SemanticAnswersOptions;
  readonly #caches = new Map<string, { cache: Promise<SemanticCache>; at: number }>();

  constructor(options: SemanticAnswersOptions) {
    this.#options = options;
  }

  async lookup(
    projectId: string,
    /** The route, and the request's shape (`requestShape`): answers are never shared beyond it. */
    namespace: string,
    policy: SemanticCachePolicy,
    prompt: string,
  ): Promise<SemanticHitAnswer | undefined> {
    const cache = await this.#cacheFor(projectId, policy);
    const hit = await cache.lookup({ projectId, model: namespace, prompt });
    if (hit === undefined) return undefined;
    try {
      return { ...(JSON.parse(hit.answer) as SemanticAnswer), similarity: hit.similarity };
    } catch {
      return undefined;
    }
  }

  async store(
    projectId: string,
    namespace: string,
    policy: SemanticCachePolicy,
    prompt: string,
    answer: SemanticAnswer,
  ): Promise<void> {
    const cache = await this.#cacheFor(projectId, policy);
    await cache.store({ projectId, model: namespace, prompt }, JSON.stringify(answer));
  }

  #cacheFor(projectId: string, policy: SemanticCachePolicy): Promise<SemanticCache> {
    const key = `${projectId}\0${policy.embeddingModel}\0${policy.threshold}\0${policy.ttlMs}`;
    const now = performance.now();
    const known = this.#caches.get(key);
    if (known !== undefined && now - known.at < (this.#options.resolveTtlMs ?? 30_000)) return known.cache;
    const cache = this.#open(projectId, policy);
    cache.catch(() => this.#caches.delete(key));
    this.#caches.set(key, { cache, at: now });
    if (this.#caches.size > 10_000) this.#caches.delete(this.#caches.keys().next().value as string);
    return cache;
  }

  async #open(projectId: string, policy: SemanticCachePolicy): Promise<SemanticCache> {
    const { embedder, store } = this.#options;
    const lineage = await embedder.resolve(projectId, policy.embeddingModel, 'policy.semanticCache.embeddingModel');
    const embed = (texts: readonly string[]) => embedder.embed(projectId, lineage, texts);
    // The index's dimension is the model's: measured once per resolution.
    const [probe] = await embed(['dimension probe']);
    return new SemanticCache({
      store,
      indexId: indexIdOf(projectId, lineage),
      dimension: (probe as number[]).length,
      embed,
      threshold: policy.threshold,
      ttlMs: policy.ttlMs,
    });
  }
}

/**
 * One index per project and embedding model version: vectors of two models never share an index, and
 * two projects' models of the same name (registry names are per project) never meet.
 */
function indexIdOf(projectId: string, lineage: EmbeddingLineage): string {
  const digest = createHash('sha256')
    .update(`${projectId}\0${lineage.model}@${lineage.version}`)
    .digest('hex')
    .slice(0, 24);
  return `ensemble.semantic-cache.${digest}`;
}

/**
 * The text a chat request's meaning is taken from: each message as `role: text` on its own line
 * (text parts of multi-part contents joined). Undefined when there is nothing to compare, or when the
 * meaning is not all in text: an image, audio or file part, or an assistant's tool calls, would be
 * invisible to the comparison, so such a request never takes (or leaves) a cached answer.
 */
export function promptText(messages: unknown): string | undefined {
  if (!Array.isArray(messages) || messages.length === 0) return undefined;
  const lines: string[] = [];
  let hasText = false;
  for (const message of messages) {
    if (message === null || typeof message !== 'object') return undefined;
    const { role, content, tool_calls, function_call } = message as Record<string, unknown>;
    if (tool_calls !== undefined || function_call !== undefined) return undefined;
    let text: string;
    if (typeof content === 'string') text = content;
    else if (content === null || content === undefined) text = '';
    else if (Array.isArray(content)) {
      const texts: string[] = [];
      for (const part of content) {
        const { type, text: partText } = (part ?? {}) as { type?: unknown; text?: unknown };
        if (type !== 'text' || typeof partText !== 'string') return undefined;
        texts.push(partText);
      }
      text = texts.join(' ');
    } else return undefined;
    lines.push(`${String(role)}: ${text}`);
    if (text.trim() !== '') hasText = true;
  }
  return hasText ? lines.join('\n') : undefined;
}

/** What the comparison leaves out and does not change the answer: the prompt itself, framing, who asks. */
const outsideShape = new Set(['messages', 'stream', 'stream_options', 'user', 'metadata', 'store']);

/**
 * The rest of a chat request — tools, response format, sampling, limits — as a short digest. Answers
 * are kept and looked up per shape, so a similar prompt never gets an answer given under other tools,
 * another `response_format`, temperature or `max_tokens`.
 */
export function requestShape(body: Readonly<Record<string, unknown>>): string {
  const rest = Object.fromEntries(Object.entries(body).filter(([key]) => !outsideShape.has(key)));
  return createHash('sha256').update(requestFingerprint(rest)).digest('base64url').slice(0, 16);
}

/**
 * A kept `chat.completion` replayed as a stream: the message in one chunk, the finish reason in the
 * next, the usage chunk when the client asked for it, then `[DONE]` — what OpenAI's SDKs assemble back.
 */
export function completionAsStream(body: string, includeUsage: boolean): string {
  const completion = JSON.parse(body) as {
    id?: string;
    created?: number;
    model?: string;
    choices?: Array<{ index?: number; message?: { role?: string; content?: unknown }; finish_reason?: unknown }>;
    usage?: unknown;
  };
  const base = {
    id: completion.id ?? 'chatcmpl-cached',
    object: 'chat.completion.chunk',
    created: completion.created ?? Math.floor(Date.now() / 1000),
    model: completion.model ?? '',
  };
  const usage = includeUsage ? { usage: null } : {};
  const events: unknown[] = [];
  for (const choice of completion.choices ?? []) {
    const index = choice.index ?? 0;
    events.push({
      ...base,
      choices: [
        {
          index,
          delta: { role: choice.message?.role ?? 'assistant', content: choice.message?.content ?? '' },
          finish_reason: null,
        },
      ],
      ...usage,
    });
    events.push({ ...base, choices: [{ index, delta: {}, finish_reason: choice.finish_reason ?? 'stop' }], ...usage });
  }
  if (includeUsage) events.push({ ...base, choices: [], usage: completion.usage ?? null });
  return `${events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('')}data: [DONE]\n\n`;
}

/** Streams larger than this are not assembled for the semantic cache. */
const maxAssembledStreamBytes = 256 * 1024;

/**
 * Passes a chat stream's chunks through unchanged and, once it has ended with `[DONE]`, hands `done`
 * the `chat.completion` the chunks add up to (content joined per choice, the finish reason, the usage
 * chunk's usage), so a streamed answer can be kept like a whole one. A stream cut short, over 256 KB,
 * or with tool calls is not assembled.
 */
export async function* assembleCompletion<C extends Buffer | string>(
  stream: AsyncIterable<C>,
  done: (completionJson: string) => void,
): AsyncGenerator<C> {
  const parts: string[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    if (bytes <= maxAssembledStreamBytes) {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      parts.push(text);
      bytes += text.length;
    }
    yield chunk;
  }
  if (bytes > maxAssembledStreamBytes) return;
  const completion = completionOf(parts.join(''));
  if (completion !== undefined) done(completion);
}

interface StreamChunk {
  id?: string;
  created?: number;
  model?: string;
  choices?: Array<{
    index?: number;
    delta?: { role?: string; content?: string | null; tool_calls?: unknown };
    finish_reason?: string | null;
  }>;
  usage?: unknown;
}

function completionOf(sse: string): string | undefined {
  const events = sse
    .split(/\r?\n\r?\n/)
    .map((block) =>
      block
        .split(/\r?\n/)
        .find((line) => line.startsWith('data:'))
        ?.slice(5)
        .trim(),
    )
    .filter((data): data is string => data !== undefined && data !== '');
  if (events.at(-1) !== '[DONE]') return undefined;
  const choices = new Map<number, { role: string; content: string; finish: string | null }>();
  let head: StreamChunk | undefined;
  let usage: unknown = null;
  for (const data of events.slice(0, -1)) {
    let chunk: StreamChunk;
    try {
      chunk = JSON.parse(data) as StreamChunk;
    } catch {
      return undefined;
    }
    head ??= chunk;
    if (chunk.usage !== undefined && chunk.usage !== null) usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      if (choice.delta?.tool_calls !== undefined) return undefined;
      const index = choice.index ?? 0;
      const entry = choices.get(index) ?? { role: 'assistant', content: '', finish: null };
      if (choice.delta?.role !== undefined) entry.role = choice.delta.role;
      if (typeof choice.delta?.content === 'string') entry.content += choice.delta.content;
      if (choice.finish_reason !== undefined && choice.finish_reason !== null) entry.finish = choice.finish_reason;
      choices.set(index, entry);
    }
  }
  if (head === undefined || choices.size === 0) return undefined;
  return JSON.stringify({
    id: head.id ?? 'chatcmpl-assembled',
    object: 'chat.completion',
    created: head.created ?? Math.floor(Date.now() / 1000),
    model: head.model ?? '',
    choices: [...choices].map(([index, choice]) => ({
      index,
      message: { role: choice.role, content: choice.content },
      finish_reason: choice.finish ?? 'stop',
    })),
    usage,
  });
}
