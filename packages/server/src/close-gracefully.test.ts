import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { EnsembleApp } from './app-types.ts';
import { closeGracefully } from './close-gracefully.ts';
import { httpGet, rawConnection, rawExchange } from './testing/http-client.ts';
import { buildTestApp } from './testing/test-app.ts';

/** A route that holds each request until the test lets it go, and says when one has arrived. */
function gate() {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered: () => void = () => {};
  const arrived = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const module: FastifyPluginAsyncZod = async (app) => {
    app.get('/gate', async () => {
      entered();
      await released;
      return { finished: true };
    });
  };
  return { module, release, arrived };
}

async function listening(app: EnsembleApp): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('closeGracefully', () => {
  test('an in-flight request finishes while closing; new connections are refused', async () => {
    const held = gate();
    const { app } = await buildTestApp({ modules: [held.module] });
    const port = await listening(app);

    const inFlight = httpGet(port, '/gate');
    await held.arrived;
    const closing = closeGracefully(app, { timeoutMs: 5_000 });
    await until(() => !app.server.listening);

    await assert.rejects(httpGet(port, '/healthz'), (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED');

    held.release();
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { finished: true });
    assert.deepEqual(await closing, { timedOut: false });
  });

  test('a request arriving on an open connection while closing gets 503 shutting_down', async () => {
    const held = gate();
    const { app } = await buildTestApp({ modules: [held.module] });
    const port = await listening(app);

    const inFlight = httpGet(port, '/gate');
    await held.arrived;
    // A client part-way through sending its request when close begins: its connection is not idle.
    const late = rawConnection(port);
    await late.send('GET /test/items?limit=1 HTTP/1.1\r\nHost: localhost\r\nx-request-id: late-1\r\n');
    const closing = closeGracefully(app, { timeoutMs: 5_000 });
    await until(() => !app.server.listening);
    await late.send('\r\n');

    const received = await late.received;
    assert.match(received, /^HTTP\/1\.1 503/);
    assert.match(received, /connection: close/i);
    assert.match(received, /retry-after: 1/i);
    assert.match(received, /"code":"shutting_down"/);
    assert.match(received, /"request_id":"late-1"/);

    held.release();
    const finished = await inFlight;
    assert.equal(finished.status, 200);
    assert.equal(finished.headers.connection, 'close', 'responses after close began end their connection');
    assert.deepEqual(await closing, { timedOut: false });
  });

  test('a keep-alive connection busy at close is ended after its response, not held open', async () => {
    const held = gate();
    const { app } = await buildTestApp({ modules: [held.module] });
    const port = await listening(app);

    // A keep-alive connection whose request is in flight when close begins. Its response says
    // `Connection: close` and the socket ends, instead of idling until keepAliveTimeout (72 s). A
    // request pipelined behind it is left for the client to retry, as HTTP/1.1 allows.
    const exchange = rawExchange(
      port,
      'GET /gate HTTP/1.1\r\nHost: localhost\r\n\r\nGET /test/items?limit=1 HTTP/1.1\r\nHost: localhost\r\n\r\n',
    );
    await held.arrived;
    const started = performance.now();
    const closing = closeGracefully(app, { timeoutMs: 3_000 });
    await until(() => !app.server.listening);
    held.release();

    const received = await exchange;
    assert.match(received, /^HTTP\/1\.1 200 OK/);
    assert.match(received, /connection: close/i);
    assert.deepEqual(await closing, { timedOut: false });
    assert.ok(performance.now() - started < 1_000, 'close did not wait for the keep-alive timeout');
  });

  test('while draining, /readyz is 503 and traffic is still served; then connections are refused', async () => {
    const { app } = await buildTestApp();
    const port = await listening(app);

    const closing = closeGracefully(app, { timeoutMs: 2_000, drainDelayMs: 300 });
    const ready = await httpGet(port, '/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(JSON.parse(ready.body), { status: 'unavailable', reason: 'shutting_down', checks: {} });
    assert.equal((await httpGet(port, '/healthz')).status, 200);
    assert.equal((await httpGet(port, '/test/items?limit=2')).status, 200);

    assert.deepEqual(await closing, { timedOut: false });
    await assert.rejects(httpGet(port, '/healthz'), (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED');
  });

  test('a request that outlives the timeout is cut, and close never hangs', async () => {
    const held = gate();
    const { app, logs } = await buildTestApp({ modules: [held.module] });
    const port = await listening(app);

    const inFlight = httpGet(port, '/gate').then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    await held.arrived;
    const started = performance.now();
    const outcome = await closeGracefully(app, { timeoutMs: 200 });
    const elapsed = performance.now() - started;

    assert.deepEqual(outcome, { timedOut: true });
    assert.ok(elapsed < 1_500, `closed in ${elapsed} ms`);
    assert.equal(await inFlight, 'ECONNRESET');
    assert.match(logs.text, /shutdown deadline/);
    held.release();
  });
});
