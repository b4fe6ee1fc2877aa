import type { TokenCounts } from './usage-meter.ts';

/**
 * Token counts from an OpenAI answer's `usage` object without parsing the whole answer: the last
 * `"usage"` key (model text cannot contain an unescaped quote, so it is the real one) and the
 * counts just after it. Zeros when the upstream sent none.
 */
export function readUsage(json: Buffer | string): TokenCounts {
  const bytes = typeof json === 'string' ? Buffer.from(json) : json;
  const at = bytes.lastIndexOf('"usage"');
  if (at < 0) return { inputTokens: 0, outputTokens: 0 };
  const end = Math.min(bytes.length, at + 1_000);
  return {
    inputTokens: countAfter(bytes, '"prompt_tokens"', at, end),
    outputTokens: countAfter(bytes, '"completion_tokens"', at, end),
  };
}

/** The whole number after `key` and its colon, looked for between `from` and `end`. */
function countAfter(bytes: Buffer, key: string, from: number, end: number): number {
  const found = bytes.indexOf(key, from);
  if (found < 0 || found >= end) return 0;
  let index = found + key.length;
  // Whitespace and the colon, as JSON allows them.
  while (
    index < end &&
    (bytes[index] === 0x20 || bytes[index] === 0x3a || bytes[index] === 0x0a || bytes[index] === 0x09)
  ) {
    index += 1;
  }
  let value = 0;
  let digits = 0;
  for (; index < end; index += 1) {
    const byte = bytes[index] as number;
    if (byte < 0x30 || byte > 0x39) break;
    value = value * 10 + (byte - 0x30);
    digits += 1;
  }
  return digits === 0 ? 0 : value;
}
