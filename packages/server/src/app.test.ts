import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configSchema } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { buildApp } from './app.ts';
import { createLogger } from './logger.ts';
import { InMemoryApiKeys } from './testing/in-memory-api-keys.ts';
import { LogCapture } from './testing/log-capture.ts';
import { buildTestApp } from './testing/test-app.ts';

describe('buildApp', () => {
  test('returns a ready app that is not listening', async () => {
    const app = await buildApp({
      config: configSchema.parse({}),
      logger: createLogger({ level: 'silent', destination: new LogCapture() }),
      authenticator: new InMemoryApiKeys(),
      checks: [],
    });
    try {
      assert.equal(app.server.listening, false);
      assert.ok(app.hasRoute({ method: 'GET', url: '/healthz' }));
      assert.ok(app.hasRoute({ method: 'GET', url: '/openapi.json' }));
    } finally {
      await app.close();
    }
  });

  test('mounts modules in order, with or without a prefix, typed by their zod schemas', async () => {
    const echo: FastifyPluginAsyncZod = async (app) => {
      app.post(
        '/echo',
        { schema: { body: z.object({ text: z.string() }), response: { 200: z.object({ text: z.string() }) } } },
        async (request) => ({ text: request.body.text.toUpperCase() }),
      );
    };
    const { app, admin } = await buildTestApp({
      withTestModule: false,
      modules: [echo, { plugin: echo, prefix: '/v1' }],
    });
    try {
      for (const url of ['/echo', '/v1/echo']) {
        const response = await app.inject({ method: 'POST', url, headers: admin, payload: { text: 'hi' } });
        assert.deepEqual(response.json(), { text: 'HI' }, url);
      }
    } finally {
      await app.close();
    }
  });

  test('sends no x-powered-by and ignores X-Forwarded-* (trustProxy off)', async () => {
    const { app } = await buildTestApp();
    try {
      const response = await app.inject({
        method: 'GET',
        url: '/test/ip',
        remoteAddress: '10.0.0.9',
        headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
      });
      assert.equal(response.headers['x-powered-by'], undefined);
      assert.deepEqual(response.json(), { ip: '10.0.0.9', protocol: 'http' });
    } finally {
      await app.close();
    }
  });
});
