import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake server received, body parsed. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

export type FakeHandler = (request: ReceivedRequest, response: ServerResponse) => void | Promise<void>;

export interface FakeOpenAiServer {
  /** `http://127.0.0.1:<port>/v1` — what a model's `baseUrl` is set to. */
  readonly baseUrl: string;
  readonly requests: ReceivedRequest[];
  /** Replaces how the next requests are answered (default: `answerCompletion`). */
  handle(handler: FakeHandler): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback that speaks OpenAI's wire format, answering as each test tells it
 * (an answer, a status, a stream that dies, silence). For the gateway's tests; the benchmark has its
 * own pre-serialised one in bench/gateway.
 */
export async function startFakeOpenAiServer(handler: FakeHandler = answerCompletion()): Promise<FakeOpenAiServer> {
  let current = handler;
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    const text = Buffer.concat(parts).toString('utf8');
    const received: ReceivedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
    requests.push(received);
    try {
      await current(received, res);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    handle(next) {
      current = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export const fakeUsage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };

export function completionBody(content: string, model = 'upstream-model') {
  return {
    id: 'chatcmpl-fake0001',
    object: 'chat.completion',
    created: 1_764_000_000,
    model,
    choices: [
      { index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' },
    ],
    usage: fakeUsage,
  };
}

function chunk(delta: Record<string, unknown>, finishReason: string | null, withUsage: boolean) {
  return {
    id: 'chatcmpl-fake0001',
    object: 'chat.completion.chunk',
    created: 1_764_000_000,
    model: 'upstream-model',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(withUsage ? { usage: null } : {}),
  };
}

/** The `data:` events of a streamed answer, words as deltas, as OpenAI sends them (usage when asked). */
export function streamEvents(words: readonly string[], includeUsage: boolean): string[] {
  return [
    chunk({ role: 'assistant', content: '', refusal: null }, null, includeUsage),
    ...words.map((content) => chunk({ content }, null, includeUsage)),
    chunk({}, 'stop', includeUsage),
    ...(includeUsage ? [{ ...chunk({}, null, false), choices: [], usage: fakeUsage }] : []),
  ].map((event) => `data: ${JSON.stringify(event)}\n\n`);
}

/** Answers every chat completion with `content` (streamed word by word when asked) and embeddings with a fixed vector. */
export function answerCompletion(content = 'Hello from upstream.'): FakeHandler {
  return async (request, response) => {
    if (request.url.endsWith('/embeddings')) {
      const inputs = [request.body.input].flat();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          object: 'list',
          data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.5, -0.25, 0.125] })),
          model: 'upstream-embedder',
          usage: { prompt_tokens: 3 * inputs.length, total_tokens: 3 * inputs.length },
        }),
      );
      return;
    }
    if (request.body.stream === true) {
      const includeUsage = (request.body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const event of streamEvents(content.split(/(?= )/), includeUsage === true)) response.write(event);
      response.end('data: [DONE]\n\n');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(completionBody(content)));
  };
}

/** Answers with an OpenAI error body and `status`. */
export function answerError(
  status: number,
  message = 'upstream says no',
  headers: Record<string, string> = {},
): FakeHandler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } }));
  };
}
