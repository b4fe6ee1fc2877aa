import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError, parseRoute, type Route } from '@ensemble/core';
import { RouteLookupCache, type RouteSource } from './route-lookup-cache.ts';

/** Route storage in memory that counts its reads and can be made to fail like an unreachable database. */
class CountingSource implements RouteSource {
  readonly routes = new Map<string, Route>();
  reads = 0;
  down = false;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  put(projectId: string, name: string, target: string, version = 1): void {
    this.routes.set(`${projectId}/${name}`, parseRoute({ name, version, policy: target }));
  }

  /** Holds reads until `release()`. */
  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  async current(projectId: string, name: string): Promise<Route | undefined> {
    this.reads += 1;
    // Read now, answer when released: like a query that ran before a change committed.
    const route = this.routes.get(`${projectId}/${name}`);
    await this.#gate;
    if (this.down) throw new EnsembleError('database_unavailable', 'the database cannot be reached');
    return route;
  }

  async currentAll(projectId: string): Promise<Route[]> {
    this.reads += 1;
    await this.#gate;
    if (this.down) throw new EnsembleError('database_unavailable', 'the database cannot be reached');
    return [...this.routes].filter(([key]) => key.startsWith(`${projectId}/`)).map(([, route]) => route);
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RouteLookupCache', () => {
  it('reads each name once, "no such route" included, and returns the same object on every hit', async () => {
    const source = new CountingSource();
    source.put('p', 'chat', 'openai/gpt-4o');
    let now = 0;
    const cache = new RouteLookupCache({ source, ttlMs: 1_000, now: () => now });
    const first = await cache.current('p', 'chat');
    assert.equal(first?.version, 1);
    assert.equal(await cache.current('p', 'chat'), first);
    assert.equal(await cache.current('p', 'openai/gpt-4o'), undefined);
    assert.equal(await cache.current('p', 'openai/gpt-4o'), undefined);
    assert.equal(source.reads, 2);
    now = 999;
    await cache.current('p', 'chat');
    assert.equal(source.reads, 2);
  });

  it('answers refs with a version or alias without a read: they always name models', async () => {
    const source = new CountingSource();
    const cache = new RouteLookupCache({ source });
    assert.equal(await cache.current('p', 'openai/gpt-4o@2'), undefined);
    assert.equal(await cache.current('p', 'openai/gpt-4o:production'), undefined);
    assert.equal(source.reads, 0);
    assert.equal(cache.size, 0);
  });

  it('shares one read among concurrent misses', async () => {
    const source = new CountingSource();
    source.put('p', 'chat', 'm');
    const cache = new RouteLookupCache({ source });
    source.hold();
    const answers = Promise.all([cache.current('p', 'chat'), cache.current('p', 'chat'), cache.current('p', 'chat')]);
    source.release();
    const [a, b, c] = await answers;
    assert.equal(a, b);
    assert.equal(b, c);
    assert.equal(source.reads, 1);
  });

  it('serves a known answer after the TTL while it refreshes, keeping the object when nothing changed', async () => {
    const source = new CountingSource();
    source.put('p', 'chat', 'm');
    let now = 0;
    const cache = new RouteLookupCache({ source, ttlMs: 100, now: () => now });
    const first = await cache.current('p', 'chat');
    now = 150;
    assert.equal(await cache.current('p', 'chat'), first, 'served while refreshing');
    await settle();
    assert.equal(source.reads, 2);
    assert.equal(await cache.current('p', 'chat'), first, 'same content: same object');

    source.put('p', 'chat', 'other', 2);
    now = 300;
    await cache.current('p', 'chat');
    await settle();
    assert.equal((await cache.current('p', 'chat'))?.version, 2);

    // A route that went away, and a name that became a route, are seen after the TTL too.
    source.routes.delete('p/chat');
    source.put('p', 'new', 'm');
    assert.equal(await cache.current('p', 'new'), source.routes.get('p/new'));
    const before = source.reads;
    assert.equal(await cache.current('p', 'later'), undefined);
    source.put('p', 'later', 'm');
    now = 500;
    await cache.current('p', 'chat');
    await cache.current('p', 'later');
    await settle();
    assert.equal(await cache.current('p', 'chat'), undefined);
    assert.equal((await cache.current('p', 'later'))?.name, 'later');
    assert.equal(source.reads, before + 3);
  });

  it('drops a whole project on invalidate, and does not keep a read that was in flight during it', async () => {
    const source = new CountingSource();
    source.put('p', 'a', 'm');
    source.put('q', 'a', 'm');
    const cache = new RouteLookupCache({ source });
    await cache.current('p', 'a');
    await cache.current('p', 'model');
    await cache.current('q', 'a');
    await cache.list('p');
    assert.equal(cache.size, 4);
    cache.invalidate('p');
    assert.equal(cache.size, 1);

    source.hold();
    const inFlight = cache.current('p', 'a');
    cache.invalidate('p');
    source.put('p', 'a', 'other', 2);
    source.release();
    assert.equal((await inFlight)?.version, 1, 'the caller that asked before gets what was read');
    assert.equal((await cache.current('p', 'a'))?.version, 2, 'but it was not kept');
  });

  it('keeps the last answers while the source is down, and does not cache an outage', async () => {
    const source = new CountingSource();
    source.put('p', 'chat', 'm');
    let now = 0;
    const cache = new RouteLookupCache({ source, ttlMs: 100, now: () => now });
    const known = await cache.current('p', 'chat');
    source.down = true;
    now = 1_000;
    assert.equal(await cache.current('p', 'chat'), known);
    await settle();
    assert.equal(await cache.current('p', 'chat'), known);
    await assert.rejects(cache.current('p', 'unknown'), /cannot be reached/);
    source.down = false;
    assert.equal(await cache.current('p', 'unknown'), undefined, 'asked again once the source is back');
  });

  it('bounds routes and absences separately, so made-up names cannot push routes out', async () => {
    const source = new CountingSource();
    source.put('p', 'chat', 'm');
    const cache = new RouteLookupCache({ source, maxEntries: 3 });
    const chat = await cache.current('p', 'chat');
    await settle();
    for (let i = 0; i < 10; i += 1) await cache.current('p', `nothing-${i}`);
    await settle();
    assert.equal(cache.size, 4);
    const reads = source.reads;
    assert.equal(await cache.current('p', 'chat'), chat);
    assert.equal(source.reads, reads);
  });

  it('caches the list of a project like single answers', async () => {
    const source = new CountingSource();
    source.put('p', 'a', 'm');
    const cache = new RouteLookupCache({ source });
    assert.deepEqual(
      (await cache.list('p')).map((route) => route.name),
      ['a'],
    );
    await cache.list('p');
    assert.equal(source.reads, 1);
    source.put('p', 'b', 'm');
    cache.invalidate('p');
    assert.equal((await cache.list('p')).length, 2);
  });

  it('asks the source every time with a TTL of 0', async () => {
    const source = new CountingSource();
    const cache = new RouteLookupCache({ source, ttlMs: 0 });
    await cache.current('p', 'a');
    await cache.current('p', 'a');
    assert.equal(source.reads, 2);
    assert.equal(cache.size, 0);
  });
});
