import type { WireAnswer } from './pass-through.ts';
import { readUsage } from './read-usage.ts';
import type { ResponseCache } from './response-cache.ts';

/** One request's use of the cache: which cache, and whether the answer came from it. */
export interface CacheUse {
  readonly cache: ResponseCache;
  hit: boolean;
}

/** Streams larger than this are not kept (the bound applies while they are still being read). */
const maxStreamBytes = 1024 * 1024;
const done = 'data: [DONE]';

/** A whole answer from the cache, or from `load` (and kept when it succeeds). */
export async function cachedAnswer(
  use: CacheUse | undefined,
  key: () => string,
  load: () => Promise<WireAnswer>,
): Promise<WireAnswer> {
  if (use === undefined) return load();
  const id = key();
  const hit = use.cache.get(id);
  use.hit = hit !== undefined;
  if (hit !== undefined) {
    return {
      body: hit.body,
      contentType: hit.contentType,
      usage: { inputTokens: hit.inputTokens, outputTokens: hit.outputTokens },
    };
  }
  const answer = await load();
  use.cache.set(id, { body: answer.body, contentType: answer.contentType, ...answer.usage });
  return answer;
}

/**
 * A chunk stream from the cache (replayed as one chunk), or from `open`; a stream that ends with
 * `[DONE]` is kept as the bytes the target sent (its usage chunk included, taken out later for
 * clients that did not ask for it). A stream cut short is never kept.
 */
export async function cachedStream(
  use: CacheUse | undefined,
  key: () => string,
  open: () => Promise<AsyncIterable<Buffer | string>>,
): Promise<AsyncIterable<Buffer | string>> {
  if (use === undefined) return open();
  const id = key();
  const hit = use.cache.get(id);
  use.hit = hit !== undefined;
  if (hit !== undefined) return replay(hit.body);
  return keep(use.cache, id, await open());
}

async function* replay(body: Buffer): AsyncGenerator<Buffer> {
  yield body;
}

async function* keep(
  cache: ResponseCache,
  id: string,
  stream: AsyncIterable<Buffer | string>,
): AsyncGenerator<Buffer | string> {
  const parts: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    if (bytes <= maxStreamBytes) {
      const part = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      parts.push(part);
      bytes += part.length;
    }
    yield chunk;
  }
  if (bytes > maxStreamBytes) return;
  const body = Buffer.concat(parts, bytes);
  if (!body.toString('latin1', Math.max(0, body.length - 64)).includes(done)) return;
  const usage = readUsage(body);
  cache.set(id, { body, contentType: 'text/event-stream', ...usage });
}
