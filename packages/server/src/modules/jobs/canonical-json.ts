import { createHash } from 'node:crypto';

/** sha256 of `value` as JSON with object keys sorted, so the same request hashes alike however it was written. */
export function canonicalSha256(value: unknown): string {
  const hash = createHash('sha256');
  write(value, (text) => hash.update(text));
  return hash.digest('hex');
}

function write(value: unknown, out: (text: string) => void): void {
  if (value === null || typeof value !== 'object') {
    out(JSON.stringify(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    out('[');
    value.forEach((item, i) => {
      if (i > 0) out(',');
      write(item, out);
    });
    out(']');
    return;
  }
  out('{');
  let first = true;
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    if (!first) out(',');
    first = false;
    out(JSON.stringify(key));
    out(':');
    write(item, out);
  }
  out('}');
}
