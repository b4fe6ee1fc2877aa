import { apiResponse } from '../lib/api-client.ts';
import { readSse } from '../lib/sse.ts';

export interface ChatOutcome {
  text: string;
  usage: { inputTokens: number; outputTokens: number } | null;
  timeToFirstTokenMs: number | null;
  latencyMs: number;
  model: string | null;
  /** The model version that answered (`name@version`), which a route chooses. */
  target: string | null;
}

interface Chunk {
  model?: string;
  choices?: Array<{ delta?: { content?: string | null } }>;
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  error?: { message: string };
}

/** Streams `/v1/chat/completions` (OpenAI's wire format), calling `onText` with the answer so far. */
export async function streamChat(
  body: Record<string, unknown>,
  { signal, onText }: { signal: AbortSignal; onText: (text: string) => void },
): Promise<ChatOutcome> {
  const started = performance.now();
  const response = await apiResponse('/v1/chat/completions', { method: 'POST', body, signal });
  let text = '';
  let firstToken: number | null = null;
  let usage: ChatOutcome['usage'] = null;
  let model: string | null = null;
  for await (const event of readSse(response)) {
    if (event.data === '[DONE]') break;
    const chunk = JSON.parse(event.data) as Chunk;
    if (chunk.error) throw new Error(chunk.error.message);
    model ??= chunk.model ?? null;
    const delta = chunk.choices?.[0]?.delta?.content;
    if (delta) {
      firstToken ??= performance.now() - started;
      text += delta;
      onText(text);
    }
    if (chunk.usage) usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
  }
  const target = response.headers.get('x-ensemble-target');
  return { text, usage, timeToFirstTokenMs: firstToken, latencyMs: performance.now() - started, model, target };
}
