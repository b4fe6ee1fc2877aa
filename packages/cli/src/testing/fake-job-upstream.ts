import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-wire server on loopback for job tests, steered by the last message's text (or the
 * embedding input): `FAIL` answers 400 while `failing` is on (a refusal: not retried), `FLAKY:<tag>`
 * answers 503 the first time each tag is seen (retried), `SLOW:<ms>` waits before answering. It counts
 * the calls it answered per text, so a test can tell how often each item was called. `stream: true`
 * chat requests are answered as OpenAI streams them.
 */
export interface FakeJobUpstream {
  /** `http://127.0.0.1:<port>/v1`, a model's baseUrl. */
  baseUrl: string;
  /** Whether `FAIL` items are refused (turn it off to let `retry-failed` succeed). */
  failing: boolean;
  /** Calls answered 200, by text. */
  readonly answered: Map<string, number>;
  /** Calls received, answered or not. */
  readonly received: () => number;
  close(): Promise<void>;
}

export async function startFakeJobUpstream(): Promise<FakeJobUpstream> {
  const flakySeen = new Set<string>();
  const answered = new Map<string, number>();
  let received = 0;
  const state: FakeJobUpstream = {
    baseUrl: '',
    failing: true,
    answered,
    received: () => received,
    close: async () => {},
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    received += 1;
    const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as {
      messages?: Array<{ content?: unknown }>;
      input?: string | string[];
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    const texts =
      body.messages !== undefined
        ? [String(body.messages.at(-1)?.content ?? '')]
        : Array.isArray(body.input)
          ? body.input
          : [String(body.input ?? '')];
    const steering = texts.join(' ');
    const slow = /SLOW:(\d+)/.exec(steering);
    if (slow) await new Promise((resolve) => setTimeout(resolve, Number(slow[1])));
    if (state.failing && steering.includes('FAIL')) {
      send(res, 400, {
        error: {
          message: 'this input is refused (test)',
          type: 'invalid_request_error',
          param: 'messages',
          code: null,
        },
      });
      return;
    }
    const flaky = /FLAKY:(\w+)/.exec(steering);
    if (flaky && !flakySeen.has(flaky[1] as string)) {
      flakySeen.add(flaky[1] as string);
      send(res, 503, { error: { message: 'overloaded (test)', type: 'server_error', param: null, code: null } });
      return;
    }
    for (const text of texts) answered.set(text, (answered.get(text) ?? 0) + 1);
    if (req.url?.endsWith('/embeddings')) {
      send(res, 200, {
        object: 'list',
        data: texts.map((text, index) => ({ object: 'embedding', index, embedding: [text.length, index, 0.5] })),
        model: 'fake-embedding',
        usage: { prompt_tokens: 2 * texts.length, total_tokens: 2 * texts.length },
      });
      return;
    }
    if (body.stream === true) {
      // The answer as OpenAI streams it: role, the content in two pieces, the finish, usage if asked.
      const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1_764_000_000, model: 'fake-chat' };
      const content = `echo: ${steering}`;
      const half = Math.floor(content.length / 2);
      const chunks: unknown[] = [
        { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: { content: content.slice(0, half) }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: { content: content.slice(half) }, finish_reason: null }] },
        { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      ];
      if (body.stream_options?.include_usage === true) {
        chunks.push({ ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const chunk of chunks) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    send(res, 200, {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 1_764_000_000,
      model: 'fake-chat',
      choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${steering}` }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return state;
}
