import { createHash } from 'node:crypto';

/** Fields that do not change the answer: who asks (`user`), and how the stream is framed for this client. */
const ignored = new Set(['model', 'user', 'stream_options']);

/** The request normalised: object keys sorted (so `{"a":1,"b":2}` and `{"b":2,"a":1}` are one request). */
export function requestFingerprint(body: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(body)
    .filter((key) => !ignored.has(key) && body[key] !== undefined)
    .sort();
  return keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(body[key])}`).join(',');
}

/** The cache key of a call to one target: the project, the endpoint, the model version that would answer, the request. */
export function cacheKey(projectId: string, endpoint: string, target: string, fingerprint: string): string {
  return createHash('sha256')
    .update(`${projectId}\u0000${endpoint}\u0000${target}\u0000${fingerprint}`)
    .digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .filter((key) => record[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`)
    .join(',')}}`;
}
