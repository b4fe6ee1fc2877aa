import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema, type ScaleInProtection } from '@ensemble/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { buildApp } from '../app.ts';
import { createLogger } from '../logger.ts';
import { InMemoryApiKeys } from '../testing/in-memory-api-keys.ts';

test('routes marked scaleInProtection hold it while open, released when the response ends or the client leaves', async () => {
  const reasons: string[] = [];
  let open = 0;
  let openDuringRequest = -1;
  const protection: ScaleInProtection = {
    hold(reason) {
      reasons.push(reason);
      open += 1;
      let released = false;
      return () => {
        if (!released) open -= 1;
        released = true;
      };
    },
    close: async () => {},
  };
  let finishHanging: (() => void) | undefined;
  const routes: FastifyPluginAsyncZod = async (app) => {
    app.get('/long', { config: { scaleInProtection: true } }, async () => {
      openDuringRequest = open;
      return { ok: true };
    });
    app.get('/hanging', { config: { scaleInProtection: true } }, async () => {
      await new Promise<void>((resolve) => {
        finishHanging = resolve;
      });
      return { ok: true };
    });
    app.get('/short', async () => ({ ok: true }));
  };
  const app = await buildApp({
    config: configSchema.parse({ log: { level: 'silent' } }),
    logger: createLogger({ level: 'silent' }),
    authenticator: new InMemoryApiKeys(),
    checks: [],
    modules: [routes],
    scaleInProtection: protection,
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    assert.equal((await fetch(`${url}/short`)).status, 200);
    assert.deepEqual(reasons, [], 'unmarked routes hold nothing');

    assert.equal((await fetch(`${url}/long`)).status, 200);
    assert.equal(openDuringRequest, 1);
    assert.deepEqual(reasons, ['GET /long']);
    assert.equal(open, 0, 'released when the response ended');

    const client = new AbortController();
    const pending = fetch(`${url}/hanging`, { signal: client.signal }).catch(() => undefined);
    while (finishHanging === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(open, 1);
    client.abort();
    await pending;
    for (let i = 0; i < 100 && open > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(open, 0, 'released when the client went away');
  } finally {
    finishHanging?.();
    await app.close();
  }
});
