import type { ErrorFormatter } from './error-problem.ts';

/**
 * Chooses the error body format by URL prefix, so an API family with its own wire format (the
 * Pinecone-compatible API) registers a formatter for its prefix and every failure under it, 404s and
 * body-parser errors included, comes out in that shape. The longest matching prefix wins.
 */
export class ErrorFormatterRegistry {
  readonly #byPrefix = new Map<string, ErrorFormatter>();
  readonly #fallback: ErrorFormatter;

  constructor(fallback: ErrorFormatter) {
    this.#fallback = fallback;
  }

  /** `prefix` is a path such as `/pinecone`; it matches `/pinecone` and `/pinecone/...`, not `/pineconex`. */
  register(prefix: string, formatter: ErrorFormatter): void {
    if (!/^\/[^?#\s]*[^/?#\s]$/.test(prefix)) {
      throw new TypeError(`error formatter prefix must look like '/name' without a trailing slash, got '${prefix}'`);
    }
    if (this.#byPrefix.has(prefix)) {
      throw new TypeError(`an error formatter is already registered for '${prefix}'`);
    }
    this.#byPrefix.set(prefix, formatter);
  }

  /** The formatter for a request URL (query string allowed). */
  resolve(url: string): ErrorFormatter {
    const path = pathOf(url);
    let best: { length: number; formatter: ErrorFormatter } | undefined;
    for (const [prefix, formatter] of this.#byPrefix) {
      const matches = path === prefix || path.startsWith(`${prefix}/`);
      if (matches && (best === undefined || prefix.length > best.length)) best = { length: prefix.length, formatter };
    }
    return best?.formatter ?? this.#fallback;
  }
}

export function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
