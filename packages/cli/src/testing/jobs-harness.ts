import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalArtifactStore } from '@ensemble/adapters/artifacts';
import { EmbeddedEventBus } from '@ensemble/adapters/embedded';
import { KafkaEventBus } from '@ensemble/adapters/kafka';
import {
  OutboxRelay,
  PostgresArtifactOwners,
  PostgresBatchFileRepository,
  PostgresJobEventNotifier,
  PostgresJobRepository,
  PostgresJobWebhookStore,
  PostgresJobWorkStore,
  PostgresRouteRepository,
} from '@ensemble/adapters/postgres';
import { HmacWebhookSigner } from '@ensemble/adapters/webhooks';
import {
  configSchema,
  type EventBus,
  type JobGroups,
  type JobTopics,
  ModelRuntimeManager,
  topics as platformTopics,
  registerModelSchema,
  silentLogger,
  type UsageEvent,
} from '@ensemble/core';
import { hostedProviders } from '@ensemble/providers/hosted';
import {
  artifactsModule,
  batchApiModule,
  buildApp,
  createLogger,
  type EnsembleApp,
  GatewayJobModelCaller,
  jobsModule,
} from '@ensemble/server';
import { testKafkaBrokers, uniqueName, waitFor } from '@ensemble/testkit';
import { jobConsumers, type RunningWorker, startWorker, WebhookSender } from '@ensemble/worker';
import { systemClock } from '../runtime/system-clock.ts';
import { type FakeJobUpstream, startFakeJobUpstream } from './fake-job-upstream.ts';
import { openTestRegistry, type TestRegistry } from './test-registry.ts';

export interface JobsHarnessOptions {
  bus: 'embedded' | 'kafka';
  itemConcurrency?: number;
  taskBatchSize?: number;
  /** Completion webhooks: one try's bound, the tries, and the first backoff (short, for tests). */
  webhooks?: { timeoutMs: number; maxAttempts: number; initialDelayMs: number };
}

/** A job as the API answers it (the fields tests read). */
export interface JobBody {
  id: string;
  status: string;
  round: number;
  priority: string;
  counts: { total: number; succeeded: number; failed: number; pending: number };
  usage: { inputTokens: number; outputTokens: number; costUsd: number | null };
  [key: string]: unknown;
}

export interface ResultLine {
  index: number;
  customId: string | null;
  status: 'succeeded' | 'failed';
  output: Record<string, unknown> | null;
  error: { code: string; message: string; retryable: boolean } | null;
  attempts: number;
}

/**
 * The jobs system in one process, on real components: a fresh PostgreSQL database with the registry,
 * the API app (jobs and artifacts modules, real API keys), the outbox relay, the planner and task
 * consumers on the embedded bus or the shared Kafka broker (topics and groups of its own), and a
 * fake OpenAI upstream registered as `fake-chat` and `fake-embed` (openai-compatible).
 */
export interface JobsHarness {
  app: EnsembleApp;
  bus: EventBus;
  topics: JobTopics;
  upstream: FakeJobUpstream;
  registry: TestRegistry;
  /** Route storage (jobs may name routes). */
  routes: PostgresRouteRepository;
  admin: { authorization: string };
  artifacts: LocalArtifactStore;
  signer: HmacWebhookSigner;
  /** The usage events the workers' model calls left (one per call), as the ledger would get them. */
  usage: UsageEvent[];
  request(
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{
    status: number;
    body: Record<string, unknown>;
    headers: Record<string, unknown>;
  }>;
  submit(body: Record<string, unknown>, headers?: Record<string, string>): Promise<JobBody>;
  job(id: string): Promise<JobBody>;
  /** Polls until the job is in one of `statuses`. */
  waitForStatus(id: string, statuses: readonly string[], timeoutMs?: number): Promise<JobBody>;
  results(id: string, query?: string): Promise<ResultLine[]>;
  startWorker(): Promise<RunningWorker>;
  /** Listens on loopback (for streams read with fetch); resolves with the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function startJobsHarness(options: JobsHarnessOptions): Promise<JobsHarness> {
  const registry = await openTestRegistry(`jobs_${options.bus}`);
  const { database } = registry;
  const artifactsDir = await mkdtemp(join(tmpdir(), 'ensemble-jobs-artifacts-'));
  const artifacts = new LocalArtifactStore(artifactsDir);
  const upstream = await startFakeJobUpstream();
  const runtimes = new ModelRuntimeManager({
    providers: new Map(hostedProviders.map((provider) => [provider.id, provider])),
    models: registry.models,
    revealCredential: (projectId, name) => registry.credentials.reveal(projectId, name),
    clock: systemClock,
    logger: silentLogger,
    healthIntervalMs: 0,
  });
  for (const [name, kind] of [
    ['fake-chat', 'chat'],
    ['fake-embed', 'embedding'],
  ] as const) {
    await registry.models.register(
      registerModelSchema.parse({
        name,
        kind,
        provider: 'openai-compatible',
        providerModelId: name,
        baseUrl: upstream.baseUrl,
        pricing: { inputPerMillionTokens: 1, outputPerMillionTokens: 2 },
      }),
      { actor: 'test' },
    );
  }

  // Names of this harness's own, so tests on one Kafka broker never read each other's records.
  const prefix = uniqueName('test.jobs').replaceAll('_', '.');
  const topics: JobTopics = {
    requested: `${prefix}.requested`,
    tasks: `${prefix}.tasks`,
    tasksHigh: `${prefix}.tasks.high`,
    events: `${prefix}.events`,
    dlq: `${prefix}.dlq`,
    documents: `${prefix}.documents`,
  };
  const groups: JobGroups = {
    tasks: `${prefix}.g.tasks`,
    planner: `${prefix}.g.planner`,
    documents: `${prefix}.g.documents`,
  };
  const bus: EventBus =
    options.bus === 'kafka'
      ? new KafkaEventBus({
          brokers: testKafkaBrokers(),
          clientId: 'jobs-test',
          replicationFactor: 1,
          connectTimeoutMs: 5_000,
          logger: silentLogger,
        })
      : new EmbeddedEventBus({ database, logger: silentLogger, pollIntervalMs: 200, rebalanceIntervalMs: 300 });
  const partitions = 3;
  // The relay carries the registry's outbox too (the models registered above), and a topic missing
  // on a fresh broker would hold the whole outbox back.
  await bus.ensureTopics(
    [...Object.values(topics), platformTopics.modelsLifecycle].map((name) => ({ name, partitions })),
  );

  const signer = new HmacWebhookSigner(randomBytes(32));
  // Jobs may name routes: submissions look names up here, and workers read the pinned versions.
  const routes = new PostgresRouteRepository(database.db);
  const owners = new PostgresArtifactOwners(database.db);
  const app = await buildApp({
    config: configSchema.parse({ log: { level: 'silent' } }),
    logger: createLogger({ level: 'silent' }),
    authenticator: registry.keys.store,
    checks: [],
    modules: [
      artifactsModule({ artifacts, owners, uploadLimitBytes: 100 * 1024 * 1024 }),
      jobsModule({
        jobs: new PostgresJobRepository(database.db, topics),
        models: registry.models,
        artifacts,
        owners,
        limits: { maxItems: 20_000, maxItemBytes: 64 * 1024 },
        notifier: new PostgresJobEventNotifier(database),
        signer,
        routes,
      }),
      batchApiModule({
        jobs: new PostgresJobRepository(database.db, topics),
        files: new PostgresBatchFileRepository(database.db),
        models: registry.models,
        artifacts,
        limits: { maxItems: 20_000, maxItemBytes: 64 * 1024 },
        uploadLimitBytes: 100 * 1024 * 1024,
        routes,
      }),
    ],
  });

  let listening: Promise<string> | undefined;
  const callers: GatewayJobModelCaller[] = [];
  const usage: UsageEvent[] = [];
  const usageRecorder = { record: (event: UsageEvent) => usage.push(event), flush: async () => {} };
  const workers: RunningWorker[] = [];
  const startJobWorker = async () => {
    const caller = new GatewayJobModelCaller(runtimes, { usage: usageRecorder, routes });
    callers.push(caller);
    const relay = new OutboxRelay({ database, bus, logger: silentLogger, pollIntervalMs: 200 });
    const worker = await startWorker({
      bus,
      logger: silentLogger,
      services: [
        { name: 'outbox-relay', start: () => relay.start(), stop: () => relay.stop() },
        new WebhookSender({
          store: new PostgresJobWebhookStore(database.db),
          signer,
          logger: silentLogger,
          timeoutMs: options.webhooks?.timeoutMs ?? 2_000,
          maxAttempts: options.webhooks?.maxAttempts ?? 3,
          initialDelayMs: options.webhooks?.initialDelayMs ?? 100,
          pollIntervalMs: 100,
        }),
      ],
      consumers: jobConsumers({
        store: new PostgresJobWorkStore(database.db, topics),
        caller,
        bus,
        logger: silentLogger,
        itemConcurrency: options.itemConcurrency ?? 16,
        taskBatchSize: options.taskBatchSize ?? 50,
        partitions,
        topics,
        groups,
      }),
    });
    workers.push(worker);
    return worker;
  };

  const request: JobsHarness['request'] = async (method, url, body, headers = {}) => {
    const response = await app.inject({
      method,
      url,
      headers: { ...registry.keys.admin, ...headers },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    const text = response.body;
    return {
      status: response.statusCode,
      body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text },
      headers: response.headers,
    };
  };
  const job = async (id: string) => {
    const response = await request('GET', `/api/jobs/${id}`);
    if (response.status !== 200) throw new Error(`GET job ${id}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as unknown as JobBody;
  };

  return {
    app,
    bus,
    topics,
    upstream,
    registry,
    routes,
    admin: registry.keys.admin,
    artifacts,
    signer,
    usage,
    request,
    async submit(body, headers) {
      const response = await request('POST', '/api/jobs', body, headers);
      if (response.status !== 201 && response.status !== 200) {
        throw new Error(`submit: ${response.status} ${JSON.stringify(response.body)}`);
      }
      return response.body as unknown as JobBody;
    },
    job,
    async waitForStatus(id, statuses, timeoutMs = 60_000) {
      return waitFor(
        `job ${id} to be ${statuses.join(' or ')}`,
        async () => {
          const current = await job(id);
          return statuses.includes(current.status) ? current : undefined;
        },
        { timeoutMs },
      );
    },
    async results(id, query = '') {
      const response = await app.inject({
        method: 'GET',
        url: `/api/jobs/${id}/results${query}`,
        headers: registry.keys.admin,
      });
      if (response.statusCode !== 200) throw new Error(`results: ${response.statusCode} ${response.body}`);
      return response.body
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as ResultLine);
    },
    startWorker: startJobWorker,
    async listen() {
      listening ??= app.listen({ port: 0, host: '127.0.0.1' });
      return listening;
    },
    async close() {
      for (const worker of workers) await worker.stop();
      await app.close();
      for (const caller of callers) await caller.close();
      await bus.close();
      await runtimes.close();
      await upstream.close();
      await registry.close();
      await rm(artifactsDir, { recursive: true, force: true });
    },
  };
}
