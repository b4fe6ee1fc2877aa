import type { TokenCounts } from './usage-meter.ts';

const promptTokens = /"prompt_tokens"\s*:\s*(\d+)/;
const completionTokens = /"completion_tokens"\s*:\s*(\d+)/;

/**
 * Token counts from an OpenAI answer's `usage` object without parsing the whole answer: the last
 * `"usage"` key (model text cannot contain an unescaped quote, so it is the real one) and the
 * counts just after it. Zeros when the upstream sent none.
 */
export function readUsage(json: Buffer | string, from = 0): TokenCounts {
  const at = json.lastIndexOf('"usage"');
  if (at < from) return { inputTokens: 0, outputTokens: 0 };
  const text = typeof json === 'string' ? json.slice(at, at + 1_000) : json.toString('latin1', at, at + 1_000);
  return {
    inputTokens: Number(promptTokens.exec(text)?.[1] ?? 0),
    outputTokens: Number(completionTokens.exec(text)?.[1] ?? 0),
  };
}
