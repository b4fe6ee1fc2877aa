/**
 * How an API family carries its key: OpenAI's and Ensemble's APIs send `Authorization: Bearer <key>`,
 * Pinecone's sends `Api-Key: <key>`. The authentication plugin picks the scheme by URL prefix.
 */
export interface ApiKeyScheme {
  /** The request header holding the key, lower case. */
  readonly header: string;
  /** The key in a header value, or `undefined` when the value is not in this scheme's form. */
  parse(value: string): string | undefined;
  /** Sent as `WWW-Authenticate` with every 401 (RFC 9110), when the scheme has one. */
  readonly challenge?: string;
  /** How to send a key, for messages: `Authorization: Bearer <key>`. */
  readonly usage: string;
}

/** `Authorization: Bearer <key>` (RFC 6750); the scheme name is case-insensitive. */
export const bearerScheme: ApiKeyScheme = Object.freeze({
  header: 'authorization',
  parse(value: string) {
    if (value.length < 8 || value.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
    const key = value.slice(7).trim();
    return key === '' ? undefined : key;
  },
  challenge: 'Bearer',
  usage: "'Authorization: Bearer <key>'",
});

/** The key alone in a header of its own, as Pinecone's `Api-Key: <key>`. */
export function headerScheme(header: string): ApiKeyScheme {
  const name = header.toLowerCase();
  return Object.freeze({
    header: name,
    parse: (value: string) => (value.trim() === '' ? undefined : value.trim()),
    usage: `'${header}: <key>'`,
  });
}
