import type { ChatGoogleGenerativeAI } from '@langchain/google-genai';

interface StreamingClient {
  generateContentStream(...args: unknown[]): Promise<{ response: Promise<unknown> }>;
}

function isStreamingClient(value: unknown): value is StreamingClient {
  return typeof value === 'object' && value !== null && 'generateContentStream' in value;
}

/**
 * `generateContentStream` returns `{stream, response}`; LangChain reads only `stream`, so when the
 * stream fails (a cut or malformed event) the aggregated `response` promise rejects with nobody
 * listening: an unhandled rejection, which ends a Node process. The failure still reaches the caller
 * through `stream`; this only marks the duplicate as handled. (`client` is private in the typings.)
 */
export function settleStreamResponse(chat: ChatGoogleGenerativeAI): void {
  const client: unknown = Reflect.get(chat, 'client');
  if (!isStreamingClient(client)) return;
  const generateContentStream = client.generateContentStream.bind(client);
  client.generateContentStream = async (...args) => {
    const result = await generateContentStream(...args);
    result.response.catch(() => undefined);
    return result;
  };
}
