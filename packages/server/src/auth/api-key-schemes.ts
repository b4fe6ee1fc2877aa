import type { ApiKeyScheme } from './api-key-scheme.ts';

interface Entry {
  readonly prefix: string;
  readonly scheme: ApiKeyScheme;
}

/**
 * Which URL prefixes need a key and in which scheme: `/v1` and `/api` Bearer, and whatever a module
 * adds (`/pinecone` with `Api-Key`). Paths under no prefix (`/healthz`, `/docs`) are open. The longest
 * prefix wins; matching is on path segment boundaries (`/api` covers `/api/x`, not `/apix`).
 */
export class ApiKeySchemes {
  /** Longest prefix first, so the first match is the best. */
  #entries: Entry[] = [];

  register(prefix: string, scheme: ApiKeyScheme): void {
    if (!/^\/[^?#\s]*[^/?#\s]$/.test(prefix)) {
      throw new TypeError(`an API key prefix must look like '/name' without a trailing slash, got '${prefix}'`);
    }
    if (this.#entries.some((entry) => entry.prefix === prefix)) {
      throw new TypeError(`an API key scheme is already registered for '${prefix}'`);
    }
    this.#entries = [...this.#entries, { prefix, scheme }].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The scheme for a path (a query string is allowed), or `undefined` when the path is open. */
  resolve(path: string): ApiKeyScheme | undefined {
    for (const { prefix, scheme } of this.#entries) {
      if (!path.startsWith(prefix)) continue;
      const next = path.charCodeAt(prefix.length);
      // End of string (NaN), '/', '?' or '#'.
      if (Number.isNaN(next) || next === 47 || next === 63 || next === 35) return scheme;
    }
    return undefined;
  }
}
