import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase } from '@ensemble/adapters/postgres';
import { waitFor } from '@ensemble/testkit';
import { type EnsembleProcess, spawnEnsemble } from './ensemble-process.ts';
import { type FakeJobUpstream, startFakeJobUpstream } from './fake-job-upstream.ts';

/** A job as the API answers it (what the fault tests read). */
export interface ClusterJob {
  id: string;
  status: string;
  counts: { total: number; succeeded: number; failed: number; pending: number };
}

/**
 * Production topology in miniature, as separate processes: one `ensemble start --no-worker` (the API)
 * and any number of `ensemble worker`s, on the PostgreSQL and Kafka the caller names, with a fake
 * OpenAI upstream registered as the chat model `upstream-chat`. The processes can be killed and
 * replaced; `resultRows` reads `job_results` directly, to count what was written.
 */
export interface JobsCluster {
  api: EnsembleProcess;
  workers: EnsembleProcess[];
  upstream: FakeJobUpstream;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  submit(items: number, text: (index: number) => string): Promise<string>;
  job(id: string): Promise<ClusterJob>;
  waitForJob(id: string, check: (job: ClusterJob) => boolean, what: string, timeoutMs?: number): Promise<ClusterJob>;
  startWorker(): Promise<EnsembleProcess>;
  /** Rows in `job_results` for the job, and how many distinct items they cover. */
  resultRows(id: string): Promise<{ rows: number; items: number; minIndex: number; maxIndex: number }>;
  close(): Promise<void>;
}

export async function startJobsCluster(env: Record<string, string>): Promise<JobsCluster> {
  const home = await mkdtemp(join(tmpdir(), 'ensemble-jobs-cluster-'));
  const upstream = await startFakeJobUpstream();
  const fullEnv = {
    ENSEMBLE_HOME: home,
    ENSEMBLE_MASTER_KEY: 'A'.repeat(43).concat('='),
    KAFKA_TOPIC_PARTITIONS: '4',
    JOBS_ITEM_CONCURRENCY: '8',
    JOBS_TASK_BATCH_SIZE: '20',
    ...env,
  };
  const api = await spawnEnsemble(['start', '--no-worker'], fullEnv);
  const workers: EnsembleProcess[] = [];
  const startWorker = async () => {
    const worker = await spawnEnsemble(['worker'], fullEnv, { waitForListening: false });
    workers.push(worker);
    await waitFor('the worker to run', () => /ensemble worker running/.test(worker.output()), { timeoutMs: 60_000 });
    return worker;
  };
  const call: JobsCluster['call'] = async (method, path, body) => {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: { ...api.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const json = response.headers.get('content-type')?.startsWith('application/json') === true;
    return { status: response.status, body: (json ? await response.json() : {}) as Record<string, unknown> };
  };
  const registered = await call('POST', '/api/models', {
    name: 'upstream-chat',
    kind: 'chat',
    provider: 'openai-compatible',
    providerModelId: 'fake-chat',
    baseUrl: upstream.baseUrl,
  });
  if (registered.status !== 201) throw new Error(`registering the model: ${JSON.stringify(registered.body)}`);
  const database = createDatabase({ url: env.DATABASE_URL as string, poolSize: 1 });
  const job = async (id: string) => {
    const response = await call('GET', `/api/jobs/${id}`);
    if (response.status !== 200) throw new Error(`GET /api/jobs/${id}: ${response.status}`);
    return response.body as unknown as ClusterJob;
  };
  return {
    api,
    workers,
    upstream,
    call,
    async submit(items, text) {
      const response = await call('POST', '/api/jobs', {
        type: 'batch-inference',
        model: 'upstream-chat',
        inputs: Array.from({ length: items }, (_, i) => ({ messages: [{ role: 'user', content: text(i) }] })),
        retry: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 500 },
      });
      if (response.status !== 201) throw new Error(`submit: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.id as string;
    },
    job,
    waitForJob: (id, check, what, timeoutMs = 120_000) =>
      waitFor(
        `job ${id}: ${what}`,
        async () => {
          const current = await job(id);
          return check(current) ? current : undefined;
        },
        { timeoutMs, intervalMs: 100 },
      ),
    startWorker,
    async resultRows(id) {
      const { rows } = await database.pool.query<{ rows: number; items: number; min: number; max: number }>(
        `select count(*)::int as rows, count(distinct item_index)::int as items,
                min(item_index) as min, max(item_index) as max
         from job_results where job_id = $1`,
        [id],
      );
      const row = rows[0] as { rows: number; items: number; min: number; max: number };
      return { rows: row.rows, items: row.items, minIndex: row.min, maxIndex: row.max };
    },
    async close() {
      const outputs: string[] = [];
      for (const worker of workers) {
        const code = await worker.stop();
        if (code !== 0 && worker.child.signalCode !== 'SIGKILL') outputs.push(worker.output());
      }
      const apiCode = await api.stop();
      if (apiCode !== 0) outputs.push(api.output());
      await database.close();
      await upstream.close();
      await rm(home, { recursive: true, force: true });
      if (outputs.length > 0) throw new Error(`a process did not exit cleanly:\n${outputs.join('\n---\n')}`);
    },
  };
}
