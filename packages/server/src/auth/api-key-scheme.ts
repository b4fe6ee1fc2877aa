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
  /** Its OpenAPI security scheme, so `/docs` can send a key ("Authorize"). */
  readonly openApi: { readonly name: string; readonly definition: Readonly<Record<string, unknown>> };
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
  openApi: {
    name: 'apiKey',
    definition: { type: 'http', scheme: 'bearer', description: 'An Ensemble API key (`ens_…`)' },
  },
});

/** The key alone in a header of its own, as Pinecone's `Api-Key: <key>`. */
export function headerScheme(header: string): ApiKeyScheme {
  const name = header.toLowerCase();
  return Object.freeze({
    header: name,
    parse: (value: string) => (value.trim() === '' ? undefined : value.trim()),
    usage: `'${header}: <key>'`,
    openApi: {
      name: `apiKeyIn${header.replace(/[^A-Za-z0-9]/g, '')}`,
      definition: { type: 'apiKey', in: 'header', name: header },
    },
  });
}
