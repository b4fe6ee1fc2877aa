/** One cached answer: the bytes a target returned (a whole answer, or a whole chunk stream). */
export interface CachedAnswer {
  body: Buffer;
  contentType: string;
  inputTokens: number;
  outputTokens: number;
}

interface Entry {
  answer: CachedAnswer;
  expiresAt: number;
  bytes: number;
}

export interface ResponseCacheOptions {
  ttlMs: number;
  /** The most the cache holds, answers and keys counted; the least recently used go first. */
  maxBytes: number;
  now?: () => number;
}

/** Roughly what a Map entry, its key and the entry object cost besides the answer's bytes. */
const entryOverheadBytes = 200;

/**
 * Exact-match answers in memory: a time-to-live per entry and a bound on total size, least recently
 * used evicted first. A single answer larger than a quarter of the bound is not kept. Per process.
 */
export class ResponseCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  #bytes = 0;

  constructor(options: ResponseCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxBytes = options.maxBytes;
    this.#now = options.now ?? (() => performance.now());
  }

  get(key: string): CachedAnswer | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#delete(key, entry);
      return undefined;
    }
    // Most recently used goes last.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.answer;
  }

  set(key: string, answer: CachedAnswer): void {
    const bytes = answer.body.length + key.length + answer.contentType.length + entryOverheadBytes;
    if (bytes > this.#maxBytes / 4) return;
    const existing = this.#entries.get(key);
    if (existing !== undefined) this.#delete(key, existing);
    this.#entries.set(key, { answer, expiresAt: this.#now() + this.#ttlMs, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#delete(oldest, entry);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  #delete(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}
