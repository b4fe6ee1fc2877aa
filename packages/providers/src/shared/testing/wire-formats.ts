import { encodeEventStreamMessage } from './event-stream-encoder.ts';

const sse = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/** OpenAI (and every OpenAI-compatible server): `data: {json}` events, then `data: [DONE]`. */
export function openAiStream(chunks: string[]) {
  return {
    headers: sse,
    chunks: [...chunks.map((chunk) => `data: ${chunk}\n\n`), 'data: [DONE]\n\n'],
  };
}

/** Anthropic Messages: named events, `event: <type>` + `data: {json}`, the type repeated in the JSON. */
export function anthropicStream(chunks: string[]) {
  return {
    headers: sse,
    chunks: chunks.map((chunk) => {
      const { type } = JSON.parse(chunk) as { type: string };
      return `event: ${type}\ndata: ${chunk}\n\n`;
    }),
  };
}

/** Gemini `streamGenerateContent?alt=sse`: `data: {GenerateContentResponse}` events separated by CRLF CRLF. */
export function geminiStream(chunks: string[]) {
  return {
    headers: { 'content-type': 'text/event-stream' },
    chunks: chunks.map((chunk) => `data: ${chunk}\r\n\r\n`),
  };
}

/**
 * Bedrock ConverseStream: `application/vnd.amazon.eventstream` binary frames. Each chunk line is
 * `{"<eventType>": payload}`; the frame carries the type in its `:event-type` header and the payload as JSON.
 */
export function bedrockEventStream(chunks: string[]) {
  return {
    headers: { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'replay-request-id' },
    chunks: chunks.map((chunk) => {
      const [eventType, payload] = Object.entries(JSON.parse(chunk) as Record<string, unknown>)[0] ?? [];
      if (eventType === undefined) throw new Error(`empty event stream chunk: ${chunk}`);
      return encodeEventStreamMessage(
        { ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' },
        JSON.stringify(payload),
      );
    }),
  };
}

/** A whole JSON body as the upstream sends it. */
export function jsonBody(body: string, status = 200, headers: Record<string, string> = {}) {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body };
}
