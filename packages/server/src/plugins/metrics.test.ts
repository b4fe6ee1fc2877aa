import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EmbeddedEventBus } from '@ensemble/adapters/embedded';
import { createDatabase, runMigrations } from '@ensemble/adapters/postgres';
import { configSchema, createEvent, EnsembleError, type EventBus } from '@ensemble/core';
import { createTestDatabase, type TestDatabase, uniqueName, waitFor } from '@ensemble/testkit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { buildApp } from '../app.ts';
import type { EnsembleApp } from '../app-types.ts';
import { createLogger } from '../logger.ts';
import { InMemoryApiKeys } from '../testing/in-memory-api-keys.ts';
import type { MetricsOptions } from './metrics.ts';
import { consumerLagCollector, type LagGroup } from './metrics-consumer-lag.ts';

const routes: FastifyPluginAsyncZod = async (app) => {
  app.get('/things/:id', async () => ({ ok: true }));
};

const appWith = (metrics: MetricsOptions | undefined) =>
  buildApp({
    config: configSchema.parse({ log: { level: 'silent' } }),
    logger: createLogger({ level: 'silent' }),
    authenticator: new InMemoryApiKeys(),
    checks: [],
    modules: [routes],
    ...(metrics ? { metrics } : {}),
  });

/** The value of one sample line, by its exact name and labels as Prometheus prints them. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', { timeout: 120_000 }, () => {
  const apps: EnsembleApp[] = [];
  after(async () => {
    for (const app of apps) await app.close();
  });

  it('exposes process metrics and requests by method, route template and status', async () => {
    const app = await appWith({});
    apps.push(app);
    for (const id of ['1', '2', '3']) await app.inject({ method: 'GET', url: `/things/${id}` });
    await app.inject({ method: 'GET', url: '/no/such/route' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const body = response.body;
    assert.equal(sample(body, 'ensemble_http_requests_total{method="GET",route="/things/:id",status="200"}'), 3);
    assert.equal(sample(body, 'ensemble_http_requests_total{method="GET",route="unmatched",status="404"}'), 1);
    assert.equal(
      sample(body, 'ensemble_http_request_duration_seconds_count{method="GET",route="/things/:id",status="200"}'),
      3,
    );
    assert.equal(
      sample(
        body,
        'ensemble_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/things/:id",status="200"}',
      ),
      3,
    );
    assert.doesNotMatch(body, /things\/1/, 'raw URLs never become labels');
    assert.ok(sample(body, 'process_cpu_user_seconds_total') !== undefined, 'default process metrics');
    assert.match(body, /^nodejs_eventloop_lag_seconds /m);

    const openApi = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal((openApi.json() as { paths: Record<string, unknown> }).paths['/metrics'], undefined, 'hidden');
  });

  it('has no /metrics route when the app is built without metrics', async () => {
    const app = await appWith(undefined);
    apps.push(app);
    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
  });

  it('a lag source that fails or hangs gives no samples and counts an error, never a 500', async () => {
    const failing: Pick<EventBus, 'consumerLag'> = {
      consumerLag: async (groupId) => {
        if (groupId === 'hangs') return new Promise(() => {});
        throw new EnsembleError('event_bus_unavailable', 'the bus is down (test)');
      },
    };
    const app = await appWith({
      collectors: [
        consumerLagCollector({
          bus: failing,
          groups: () => [{ groupId: 'down' }, { groupId: 'hangs' }],
          timeoutMs: 200,
        }),
      ],
    });
    apps.push(app);
    for (let scrape = 1; scrape <= 2; scrape++) {
      const started = Date.now();
      const response = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(response.statusCode, 200);
      assert.ok(Date.now() - started < 2_000, 'the scrape is bounded');
      assert.equal(sample(response.body, 'ensemble_consumer_lag_errors_total{group="down"}'), scrape);
      assert.equal(sample(response.body, 'ensemble_consumer_lag_errors_total{group="hangs"}'), scrape);
      assert.doesNotMatch(response.body, /^ensemble_consumer_lag\{/m);
    }
  });

  describe('consumer lag of a real group on the embedded bus', () => {
    let testDatabase: TestDatabase;
    let bus: EventBus;
    before(async () => {
      testDatabase = await createTestDatabase('metrics_lag');
      const database = createDatabase({ url: testDatabase.url });
      await runMigrations(database);
      bus = new EmbeddedEventBus({ database, ownsDatabase: true });
    });
    after(async () => {
      await bus.close();
      await testDatabase.drop();
    });

    it('reports ensemble_consumer_lag per partition with the exact numbers', async () => {
      const topic = uniqueName('metrics.lag').replaceAll('_', '.');
      const group = uniqueName('metrics-group');
      await bus.ensureTopics([{ name: topic, partitions: 2 }]);
      const groups: LagGroup[] = [];
      const app = await appWith({ collectors: [consumerLagCollector({ bus, groups: () => groups })] });
      apps.push(app);
      const scrape = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const lagOf = (body: string, partition: number) =>
        sample(body, `ensemble_consumer_lag{group="${group}",topic="${topic}",partition="${partition}"}`);
      const event = (i: number) => ({
        topic,
        key: `k${i}`,
        value: createEvent({ type: 'test/metrics.happened', projectId: 'p1', data: { i } }),
      });

      assert.equal(lagOf(await scrape(), 0), undefined, 'no groups yet: no samples');
      await bus.publish(Array.from({ length: 10 }, (_, i) => event(i)));
      groups.push({ groupId: group, topics: [topic] });
      const rows = await bus.consumerLag(group, [topic]);
      const perPartition = rows.map((row) => row.lag);
      assert.equal(perPartition.length, 2);
      assert.equal((perPartition[0] ?? 0) + (perPartition[1] ?? 0), 10);
      let body = await scrape();
      assert.equal(lagOf(body, 0), perPartition[0], 'a group that has not consumed lags by everything');
      assert.equal(lagOf(body, 1), perPartition[1]);

      // Consume everything, then publish 3 more: the lag is exactly those 3.
      let handled = 0;
      const subscription = await bus.subscribe({
        groupId: group,
        topics: [topic],
        handler: async () => {
          handled++;
        },
      });
      await waitFor('10 records handled', () => handled >= 10);
      await subscription.close();
      await bus.publish([event(100), event(101), event(102)]);
      body = await scrape();
      assert.equal((lagOf(body, 0) ?? 0) + (lagOf(body, 1) ?? 0), 3);
      const current = await bus.consumerLag(group, [topic]);
      assert.equal(lagOf(body, 0), current[0]?.lag);
      assert.equal(lagOf(body, 1), current[1]?.lag);
      assert.equal(sample(body, `ensemble_consumer_lag_errors_total{group="${group}"}`), 0);
    });
  });
});
