import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger, redactUrl } from './logger.ts';
import { LogCapture } from './testing/log-capture.ts';
import { buildTestApp } from './testing/test-app.ts';

describe('createLogger', () => {
  test('censors credential headers and secret fields', () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'info', destination: capture });
    logger.info(
      {
        upstream: {
          headers: {
            authorization: 'Bearer sk-1',
            'api-key': 'pc-2',
            'x-api-key': 'xk-3',
            cookie: 's=4',
            accept: '*/*',
          },
        },
        headers: { authorization: 'Bearer sk-5' },
        provider: { apiKey: 'sk-6', name: 'openai', nested: { password: 'pw-7', secret: 'sec-8' } },
        password: 'pw-9',
      },
      'hello',
    );
    const line = capture.text;
    for (const secret of ['sk-1', 'pc-2', 'xk-3', 's=4', 'sk-5', 'sk-6', 'pw-7', 'sec-8', 'pw-9']) {
      assert.doesNotMatch(line, new RegExp(secret), `${secret} is censored`);
    }
    const entry = capture.entries[0] as { upstream: { headers: Record<string, string> }; provider: { name: string } };
    assert.equal(entry.upstream.headers.accept, '*/*');
    assert.equal(entry.upstream.headers.authorization, '[Redacted]');
    assert.equal(entry.provider.name, 'openai');
  });

  test('respects the level', () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'warn', destination: capture });
    logger.info('quiet');
    logger.warn('loud');
    assert.deepEqual(
      capture.entries.map((entry) => entry.msg),
      ['loud'],
    );
  });
});

describe('redactUrl', () => {
  test('hides credential query values and keeps the rest', () => {
    assert.equal(redactUrl('/v1/models'), '/v1/models');
    assert.equal(redactUrl('/v1/x?limit=5'), '/v1/x?limit=5');
    assert.equal(redactUrl('/v1/x?api_key=sk-1&limit=5'), '/v1/x?api_key=%5BRedacted%5D&limit=5');
    assert.doesNotMatch(redactUrl('/x?key=a&token=b&client_secret=c&password=d'), /=a|=b|=c|=d/);
  });
});

describe('request logs', () => {
  test('carry the request id and never the credentials of a request', async () => {
    const { app, logs } = await buildTestApp();
    try {
      await app.inject({
        method: 'GET',
        url: '/test/items?limit=5&api_key=sk-in-query',
        headers: { authorization: 'Bearer sk-in-header', 'x-request-id': 'req-logged' },
      });
      const completed = logs.entries.find((entry) => entry.msg === 'request completed');
      assert.equal(completed?.requestId, 'req-logged');
      const incoming = logs.entries.find((entry) => entry.msg === 'incoming request') as { req: { url: string } };
      assert.match(incoming.req.url, /limit=5/);
      assert.doesNotMatch(logs.text, /sk-in-query|sk-in-header/);
    } finally {
      await app.close();
    }
  });
});
