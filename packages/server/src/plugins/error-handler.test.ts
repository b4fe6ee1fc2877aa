import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EnsembleError, type ErrorCode, errorCatalogue } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { EnsembleApp } from '../app-types.ts';
import type { OpenAiErrorBody } from '../errors/openai-error-body.ts';
import type { LogCapture } from '../testing/log-capture.ts';
import { buildTestApp } from '../testing/test-app.ts';

function errorOf(body: string): OpenAiErrorBody['error'] {
  return (JSON.parse(body) as OpenAiErrorBody).error;
}

describe('error handler: bad input', () => {
  let app: EnsembleApp;
  let admin: { authorization: string };
  let logs: LogCapture;
  before(async () => {
    ({ app, logs, admin } = await buildTestApp());
  });
  after(() => app.close());

  test('a valid body passes', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/items', payload: { name: 'a', count: 1 } });
    assert.equal(response.statusCode, 201);
    assert.deepEqual(response.json(), { id: 'item-1', name: 'a' });
  });

  test('malformed JSON is 400 malformed_body', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/items',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-malformed' },
      payload: '{"name": "a",',
    });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(errorOf(response.body), {
      message: 'The request body is not valid JSON',
      type: 'invalid_request_error',
      param: 'body',
      code: 'malformed_body',
      request_id: 'req-malformed',
    });
  });

  test('an empty JSON body is 400 malformed_body', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/items',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(errorOf(response.body).code, 'malformed_body');
  });

  test('a prototype-poisoning body is refused as malformed', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/items',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":"a","count":1,"__proto__":{"admin":true}}',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(errorOf(response.body).code, 'malformed_body');
  });

  test('a wrong type names the field and lists every issue', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/items', payload: { name: 5, count: 'x' } });
    assert.equal(response.statusCode, 400);
    const error = errorOf(response.body);
    assert.equal(error.code, 'validation_failed');
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, 'body.name');
    assert.match(error.message, /^body\.name: .*expected string.*\(and 1 more issue\)$/);
    const issues = error.details?.issues as { param: string; code: string }[];
    assert.deepEqual(
      issues.map((issue) => issue.param),
      ['body.name', 'body.count'],
    );
  });

  test('nested fields are named with their index', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/items',
      payload: { name: 'a', count: 1, tags: ['ok', 7] },
    });
    assert.equal(errorOf(response.body).param, 'body.tags[1]');
  });

  test('a missing required field is named', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/items', payload: { name: 'a' } });
    assert.equal(response.statusCode, 400);
    assert.equal(errorOf(response.body).param, 'body.count');
  });

  test('an unknown field in a strict schema is 400 naming that field', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/items',
      payload: { name: 'a', count: 1, colour: 'red', size: 2 },
    });
    assert.equal(response.statusCode, 400);
    const error = errorOf(response.body);
    assert.equal(error.param, 'body.colour');
    assert.equal(error.message, 'body.colour: unknown field (and 1 more issue)');
    const issues = error.details?.issues as { param: string; code: string }[];
    assert.deepEqual(issues, [
      { param: 'body.colour', code: 'unknown_field', message: 'unknown field' },
      { param: 'body.size', code: 'unknown_field', message: 'unknown field' },
    ]);
  });

  test('a missing body is a validation error on body', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/items' });
    assert.equal(response.statusCode, 400);
    const error = errorOf(response.body);
    assert.equal(error.code, 'validation_failed');
    assert.equal(error.param, 'body');
  });

  test('querystring fields are named too', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/items?limit=1000' });
    assert.equal(response.statusCode, 400);
    assert.equal(errorOf(response.body).param, 'querystring.limit');
    const ok = await app.inject({ method: 'GET', url: '/test/items?limit=5' });
    assert.deepEqual(ok.json(), { limit: 5 });
  });

  test('a body over bodyLimitBytes is 413 payload_too_large', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/items',
      payload: { name: 'x'.repeat(2000), count: 1 },
    });
    assert.equal(response.statusCode, 413);
    const error = errorOf(response.body);
    assert.equal(error.code, 'payload_too_large');
    assert.equal(error.param, 'body');
    assert.match(error.message, /1024 bytes/);
  });

  test('text/plain is 415: JSON is the only body type', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/items',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    assert.equal(response.statusCode, 415);
    const error = errorOf(response.body);
    assert.equal(error.code, 'unsupported_media_type');
    assert.equal(error.param, 'headers.content-type');
    assert.equal(error.message, "Content-Type 'text/plain' is not supported; send application/json");
  });

  test('form bodies are 415 too', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/items',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'name=a&count=1',
    });
    assert.equal(response.statusCode, 415);
    assert.equal(errorOf(response.body).code, 'unsupported_media_type');
  });

  test('an unknown route is 404 route_not_found, without echoing the query', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/nothing-here?api_key=sk-secret', headers: admin });
    assert.equal(response.statusCode, 404);
    const error = errorOf(response.body);
    assert.equal(error.code, 'route_not_found');
    assert.equal(error.type, 'not_found_error');
    assert.equal(error.message, 'No route for GET /v1/nothing-here');
    assert.doesNotMatch(response.body, /sk-secret/);
  });

  test('a known path with the wrong method is 404 route_not_found, consistently', async () => {
    const response = await app.inject({ method: 'DELETE', url: '/test/items' });
    assert.equal(response.statusCode, 404);
    assert.equal(errorOf(response.body).code, 'route_not_found');
  });

  test('a malformed URL is 400 validation_failed on url', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/ensemble/%E0%A4%A' });
    assert.equal(response.statusCode, 400);
    const error = errorOf(response.body);
    assert.equal(error.code, 'validation_failed');
    assert.equal(error.param, 'url');
    assert.ok(response.headers['x-request-id']);
  });

  test('an unknown thrown error is 500 internal_error, its detail only in the log', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/throw', headers: { 'x-request-id': 'req-boom' } });
    assert.equal(response.statusCode, 500);
    const error = errorOf(response.body);
    assert.equal(error.code, 'internal_error');
    assert.equal(error.type, 'server_error');
    assert.equal(error.request_id, 'req-boom');
    assert.doesNotMatch(response.body, /hunter2|postgres|stack|\.ts:\d+/);
    const logged = logs.entries.find((entry) => entry.requestId === 'req-boom' && entry.msg === 'request failed');
    assert.ok(logged, 'the failure is logged with its request id');
    const err = logged.err as { message: string; stack: string };
    assert.match(err.message, /hunter2/);
    assert.match(err.stack, /test-module\.ts/);
  });

  test('a thrown non-Error is 500 internal_error', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/throw-string' });
    assert.equal(response.statusCode, 500);
    assert.equal(errorOf(response.body).code, 'internal_error');
    assert.doesNotMatch(response.body, /not even/);
  });

  test('a response that breaks its own schema is 500 internal_error', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/bad-response' });
    assert.equal(response.statusCode, 500);
    assert.equal(errorOf(response.body).code, 'internal_error');
  });

  test('a handler past its deadline is 504 timeout', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/hang' });
    assert.equal(response.statusCode, 504);
    const error = errorOf(response.body);
    assert.equal(error.code, 'timeout');
    assert.equal(error.type, 'timeout_error');
  });
});

describe('error handler: the EnsembleError catalogue', () => {
  let app: EnsembleApp;
  before(async () => {
    ({ app } = await buildTestApp());
  });
  after(() => app.close());

  const opaque = new Set<ErrorCode>(['internal_error', 'config_invalid']);
  for (const [code, spec] of Object.entries(errorCatalogue) as [ErrorCode, (typeof errorCatalogue)[ErrorCode]][]) {
    test(`${code} → ${spec.httpStatus} ${spec.type}`, async () => {
      const response = await app.inject({ method: 'GET', url: `/test/ensemble/${code}?field=body.model` });
      assert.equal(response.statusCode, spec.httpStatus);
      const error = errorOf(response.body);
      assert.equal(error.code, code);
      assert.equal(error.type, spec.type);
      assert.equal(error.param, 'body.model');
      assert.equal(error.request_id, response.headers['x-request-id']);
      if (opaque.has(code)) {
        assert.doesNotMatch(error.message, /failure/);
        assert.equal(error.details, undefined);
      } else {
        assert.equal(error.message, `failure ${code}`);
        assert.deepEqual(error.details, { hint: 'test' });
      }
      assert.equal(response.headers['retry-after'], undefined);
    });
  }

  test('retryAfterSeconds becomes a Retry-After header, rounded up', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/ensemble/rate_limited?retryAfter=1.2' });
    assert.equal(response.statusCode, 429);
    assert.equal(response.headers['retry-after'], '2');
    assert.equal(errorOf(response.body).type, 'rate_limit_error');
  });
});

describe('error handler: per-prefix formatters', () => {
  const pineconeModule: FastifyPluginAsyncZod = async (app) => {
    app.registerErrorFormatter('/pinecone', (problem) => ({ code: problem.httpStatus, message: problem.message }));
    app.get('/pinecone/indexes/:name', async (request) => {
      const { name } = request.params as { name: string };
      throw new EnsembleError('not_found', `index ${name} not found`);
    });
  };
  const brokenModule: FastifyPluginAsyncZod = async (app) => {
    app.registerErrorFormatter('/broken', () => {
      throw new Error('formatter bug');
    });
  };

  let app: EnsembleApp;
  before(async () => {
    ({ app } = await buildTestApp({ modules: [pineconeModule, brokenModule] }));
  });
  after(() => app.close());

  test('errors under the prefix use its formatter', async () => {
    const response = await app.inject({ method: 'GET', url: '/pinecone/indexes/docs' });
    assert.equal(response.statusCode, 404);
    assert.deepEqual(response.json(), { code: 404, message: 'index docs not found' });
  });

  test('404s and parser errors under the prefix use it too', async () => {
    const missing = await app.inject({ method: 'GET', url: '/pinecone/nope' });
    assert.deepEqual(missing.json(), { code: 404, message: 'No route for GET /pinecone/nope' });
  });

  test('other prefixes keep the OpenAI shape', async () => {
    const response = await app.inject({ method: 'GET', url: '/pineconex' });
    assert.equal(errorOf(response.body).code, 'route_not_found');
  });

  test('a failing formatter falls back to the OpenAI shape', async () => {
    const response = await app.inject({ method: 'GET', url: '/broken/x' });
    assert.equal(response.statusCode, 404);
    assert.equal(errorOf(response.body).code, 'route_not_found');
  });

  test('registering the same prefix twice is refused', () => {
    assert.throws(() => app.registerErrorFormatter('/pinecone', () => ({})), /already registered/);
  });
});
