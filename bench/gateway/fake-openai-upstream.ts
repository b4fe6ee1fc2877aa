/**
 * A fast fake OpenAI upstream for gateway benchmarks and tests: fixed, realistic answers served from
 * pre-serialized buffers, with no delay, so it is never the bottleneck.
 *
 *   POST /v1/chat/completions   a chat.completion with usage; with "stream": true a 10-chunk SSE stream
 *                               in OpenAI's format (plus a usage chunk when
 *                               stream_options.include_usage), chunks written back to back, then [DONE]
 *   POST /v1/embeddings         one fixed 1536-d embedding per input (float, or base64 float32)
 *   GET  /v1/models             one model; GET /v1/models/{id} that model
 *
 *   node bench/gateway/fake-openai-upstream.ts [--port 0] [--host 127.0.0.1]
 *
 * The CLI prints one JSON line `{"url":"http://127.0.0.1:PORT","pid":N}` once it listens.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

export const fakeModelId = 'gpt-4o-mini-2024-07-18';
const created = 1_764_000_000;
const completionId = 'chatcmpl-BenchFake0000000000000000001';
const systemFingerprint = 'fp_bench0001';

/** The eight content deltas of the 10-chunk stream (a role chunk opens it, a finish chunk closes it). */
export const streamedContent = ['Hello', '!', ' How', ' can', ' I', ' help', ' you', ' today?'];
const answer = streamedContent.join('');
const usage = {
  prompt_tokens: 23,
  completion_tokens: 9,
  total_tokens: 32,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 0,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
};

const completionBody = Buffer.from(
  JSON.stringify({
    id: completionId,
    object: 'chat.completion',
    created,
    model: fakeModelId,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: answer, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage,
    service_tier: 'default',
    system_fingerprint: systemFingerprint,
  }),
);

function chunkEvent(delta: object, finishReason: string | null, withUsageField: boolean): Buffer {
  const chunk: Record<string, unknown> = {
    id: completionId,
    object: 'chat.completion.chunk',
    created,
    model: fakeModelId,
    service_tier: 'default',
    system_fingerprint: systemFingerprint,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
  if (withUsageField) chunk.usage = null;
  return Buffer.from(`data: ${JSON.stringify(chunk)}\n\n`);
}

function streamEvents(includeUsage: boolean): Buffer[] {
  // As OpenAI sends it: role first (empty content), one delta per token, the finish reason on an
  // empty delta, then (when asked) a usage chunk with no choices, then [DONE].
  const events = [
    chunkEvent({ role: 'assistant', content: '', refusal: null }, null, includeUsage),
    ...streamedContent.map((content) => chunkEvent({ content }, null, includeUsage)),
    chunkEvent({}, 'stop', includeUsage),
  ];
  if (includeUsage) {
    const usageChunk = {
      id: completionId,
      object: 'chat.completion.chunk',
      created,
      model: fakeModelId,
      service_tier: 'default',
      system_fingerprint: systemFingerprint,
      choices: [],
      usage,
    };
    events.push(Buffer.from(`data: ${JSON.stringify(usageChunk)}\n\n`));
  }
  events.push(Buffer.from('data: [DONE]\n\n'));
  return events;
}

const streamWithoutUsage = streamEvents(false);
const streamWithUsage = streamEvents(true);

const embeddingDimensions = 1536;
const embeddingVector = Float32Array.from({ length: embeddingDimensions }, (_, i) =>
  Number((Math.sin(i * 0.37) * 0.05).toFixed(6)),
);
const embeddingFloatJson = JSON.stringify(Array.from(embeddingVector));
const embeddingBase64Json = JSON.stringify(Buffer.from(embeddingVector.buffer).toString('base64'));

function embeddingsBody(count: number, base64: boolean): Buffer {
  const item = base64 ? embeddingBase64Json : embeddingFloatJson;
  const data = Array.from(
    { length: count },
    (_, index) => `{"object":"embedding","index":${index},"embedding":${item}}`,
  ).join(',');
  const tokens = 5 * count;
  return Buffer.from(
    `{"object":"list","data":[${data}],"model":"text-embedding-3-small","usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}}`,
  );
}
const singleFloatEmbedding = embeddingsBody(1, false);
const singleBase64Embedding = embeddingsBody(1, true);

const modelObject = { id: fakeModelId, object: 'model', created, owned_by: 'system' };
const modelBody = Buffer.from(JSON.stringify(modelObject));
const modelsBody = Buffer.from(JSON.stringify({ object: 'list', data: [modelObject] }));

const jsonHeaders = { 'content-type': 'application/json', 'openai-processing-ms': '1' };
const streamHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'openai-processing-ms': '1',
};

function sendJson(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { ...jsonHeaders, 'content-length': body.length });
  res.end(body);
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  code: string | null,
  param: string | null,
): void {
  const type = status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(res, status, Buffer.from(JSON.stringify({ error: { message, type, param, code } })));
}

function readBody(req: IncomingMessage, done: (body: Buffer) => void): void {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => done(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)));
}

function parseJson(res: ServerResponse, body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  sendError(res, 400, 'We could not parse the JSON body of your request.', null, null);
  return undefined;
}

function chatCompletions(res: ServerResponse, request: Record<string, unknown>): void {
  if (request.stream !== true) {
    sendJson(res, 200, completionBody);
    return;
  }
  const options = request.stream_options as { include_usage?: unknown } | undefined;
  const events = options?.include_usage === true ? streamWithUsage : streamWithoutUsage;
  res.writeHead(200, streamHeaders);
  for (const event of events) res.write(event);
  res.end();
}

function embeddings(res: ServerResponse, request: Record<string, unknown>): void {
  const base64 = request.encoding_format === 'base64';
  const input = request.input;
  const count = Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number' ? input.length : 1;
  if (count === 1) sendJson(res, 200, base64 ? singleBase64Embedding : singleFloatEmbedding);
  else sendJson(res, 200, embeddingsBody(count, base64));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (req.method === 'POST' && (path === '/v1/chat/completions' || path === '/v1/embeddings')) {
    readBody(req, (body) => {
      const request = parseJson(res, body);
      if (request === undefined) return;
      if (path === '/v1/chat/completions') chatCompletions(res, request);
      else embeddings(res, request);
    });
    return;
  }
  req.resume();
  if (req.method === 'GET' && path === '/v1/models') {
    sendJson(res, 200, modelsBody);
    return;
  }
  if (req.method === 'GET' && path === `/v1/models/${fakeModelId}`) {
    sendJson(res, 200, modelBody);
    return;
  }
  if (req.method === 'GET' && path?.startsWith('/v1/models/')) {
    sendError(res, 404, `The model '${path.slice(11)}' does not exist`, 'model_not_found', 'model');
    return;
  }
  sendError(res, 404, `Unknown request URL: ${req.method} ${path}.`, 'unknown_url', null);
}

export interface FakeOpenAiUpstream {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startFakeOpenAiUpstream(
  options: { port?: number; host?: string } = {},
): Promise<FakeOpenAiUpstream> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer({ keepAliveTimeout: 60_000 }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
  });
  const upstream = await startFakeOpenAiUpstream({ port: Number(values.port), host: values.host });
  process.stdout.write(`${JSON.stringify({ url: upstream.url, pid: process.pid })}\n`);
  const stop = () => void upstream.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
