/**
 * The gateways under test. A target starts its gateway (pinned to the gateway CPU) in front of the
 * fake upstream and says how to call it; the runner measures every target the same way. Adding a
 * gateway is adding one entry to `targets`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { configSchema } from '@ensemble/core';
import { ensureLitellm, ensurePortkey } from './peers.ts';
import { firstLine, type PinnedProcess } from './pinned-processes.ts';

export interface TargetContext {
  /** CPU the gateway must run on (`taskset -c`). */
  gatewayCpu: number;
  /** Ignored folder holding installed peers. */
  peersDir: string;
  /** Folder for this run's logs and generated configs. */
  workDir: string;
  /** Repository root (for `node packages/...`). */
  root: string;
  /** PID of the fake upstream (the "gateway" of the direct target). */
  upstreamPid: number;
  /** Starts a process pinned to the gateway CPU, logging to `<workDir>/<name>.log`. */
  spawnGateway(options: {
    name: string;
    command: string;
    args: string[];
    env?: NodeJS.ProcessEnv;
    cwd?: string;
  }): PinnedProcess;
  freePort(): Promise<number>;
}

export interface RunningTarget {
  url: string;
  /** The process whose CPU time and RSS (with its descendants) are measured. */
  pid: number;
  stop(): Promise<void>;
  /** Headers known only once started (added to the target's static ones). */
  headers?: Record<string, string>;
  versions?: Record<string, string>;
  notes?: string[];
}

export interface Target {
  name: string;
  /** The `model` every request names. */
  model: string;
  headers?: Record<string, string>;
  /** True when the pid measured is not a gateway (the direct upstream). */
  isDirect?: boolean;
  start(upstreamUrl: string, context: TargetContext): Promise<RunningTarget>;
}

function fromProcess(
  url: string,
  pinned: PinnedProcess,
  extra: Omit<RunningTarget, 'url' | 'pid' | 'stop'> = {},
): RunningTarget {
  return { url, pid: pinned.pid, stop: () => pinned.stop(), ...extra };
}

export const direct: Target = {
  name: 'direct upstream',
  model: 'gpt-4o-mini',
  isDirect: true,
  start: async (upstreamUrl, context) => ({ url: upstreamUrl, pid: context.upstreamPid, stop: async () => {} }),
};

export const bareProxy: Target = {
  name: 'bare proxy (floor)',
  model: 'gpt-4o-mini',
  headers: { authorization: 'Bearer sk-bench' },
  start: async (upstreamUrl, context) => {
    const pinned = context.spawnGateway({
      name: 'bare-proxy',
      command: process.execPath,
      args: [join(context.root, 'bench/gateway/bare-proxy.ts'), '--upstream', upstreamUrl],
    });
    const { url } = JSON.parse(await firstLine(pinned, 15_000)) as { url: string };
    return fromProcess(url, pinned, { versions: { undici: undiciVersion(context.root) } });
  },
};

export const portkey: Target = {
  name: 'Portkey',
  model: 'gpt-4o-mini',
  headers: { authorization: 'Bearer sk-bench', 'x-portkey-provider': 'openai' },
  start: async (upstreamUrl, context) => {
    const install = ensurePortkey(context.peersDir);
    const port = await context.freePort();
    const pinned = context.spawnGateway({
      name: 'portkey',
      command: process.execPath,
      args: [install.entry, `--port=${port}`, '--headless'],
      env: { ...process.env, NODE_ENV: 'production' },
      cwd: context.peersDir,
    });
    return fromProcess(`http://127.0.0.1:${port}`, pinned, {
      headers: { 'x-portkey-custom-host': `${upstreamUrl}/v1` },
      versions: { '@portkey-ai/gateway': install.version, '@hono/node-server': install.honoNodeServerVersion },
      notes: install.patched
        ? ['patched for streams (TypeError: immutable, Portkey-AI/gateway#1389/#1550; fix of #1551)']
        : [],
    });
  },
};

const litellmKey = `sk-bench-${randomBytes(16).toString('hex')}`;

export const litellm: Target = {
  name: 'LiteLLM',
  model: 'bench-model',
  headers: { authorization: `Bearer ${litellmKey}` },
  start: async (upstreamUrl, context) => {
    const install = ensureLitellm(context.peersDir);
    const port = await context.freePort();
    const config = join(context.workDir, 'litellm-config.yaml');
    // A master key is required since 1.10x (it refuses to start without one); no database.
    writeFileSync(
      config,
      `model_list:
  - model_name: bench-model
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${upstreamUrl}/v1
      api_key: sk-bench
litellm_settings:
  telemetry: false
general_settings:
  master_key: ${litellmKey}
`,
    );
    const pinned = context.spawnGateway({
      name: 'litellm',
      command: install.bin,
      args: ['--config', config, '--host', '127.0.0.1', '--port', String(port), '--num_workers', '1'],
      // the local cost map: no fetch from GitHub at start
      env: { ...process.env, LITELLM_LOCAL_MODEL_COST_MAP: 'True', LITELLM_LOG: 'ERROR' },
      cwd: context.workDir,
    });
    return fromProcess(`http://127.0.0.1:${port}`, pinned, {
      versions: { litellm: install.version, python: install.pythonVersion },
    });
  },
};

/** The bootstrap admin key the benchmarked Ensemble starts with: every request is authenticated. */
const ensembleBenchKey = 'ens_benchAdminKey0123456789abcdefghijklmnopqrs';

/** Routes can be declared in ensemble.yaml once route storage has landed; until then the model is called. */
const routesDeclarable = Object.hasOwn(configSchema.shape, 'routes');

/**
 * The route the benchmark calls: what a production route looks like (a fallback between two models
 * with a circuit breaker, one retry), whose first target always answers — so it measures what
 * routing costs, not a fallback.
 */
const benchRoute = `routes:
  - name: bench-route
    policy:
      strategy: fallback
      retry: { maxAttempts: 2 }
      circuitBreaker: { failureThreshold: 5, windowMs: 60000, cooldownMs: 30000 }
      targets: [bench-model, bench-model-backup]
`;

/**
 * Ensemble's `/v1` (issue 4): `ensemble start` with its embedded PostgreSQL and bus under the run's
 * folder, built-in models off, and `bench-model` declared in an ensemble.yaml as an
 * OpenAI-compatible model at the fake upstream (a pass-through). API keys are checked on every
 * request; the usage ledger records every call when it is wired in; `via` says whether requests
 * name a route or the model itself.
 */
/**
 * The Kafka broker Ensemble publishes usage events to, as in production (`ENSEMBLE_BENCH_KAFKA_BROKERS`,
 * else the test broker); topics under a prefix of their own per run. Without one, the embedded bus.
 */
const kafkaBrokers = process.env.ENSEMBLE_BENCH_KAFKA_BROKERS ?? process.env.ENSEMBLE_TEST_KAFKA_BROKERS;
const kafkaPrefix = `bench${randomBytes(4).toString('hex')}.`;

type Bus = 'kafka' | 'embedded';

function ensembleTarget(name: string, via: 'route' | 'model', bus: Bus, extraEnv: NodeJS.ProcessEnv = {}): Target {
  const useRoute = via === 'route' && routesDeclarable;
  const useKafka = bus === 'kafka' && kafkaBrokers !== undefined;
  // With Kafka the ledger consumer runs as its own worker service in production: not in the measured
  // process. On the embedded bus (the laptop default) it runs in-process, as `ensemble start` does.
  const busEnv: NodeJS.ProcessEnv = useKafka
    ? { KAFKA_BROKERS: kafkaBrokers, KAFKA_NAME_PREFIX: kafkaPrefix, ENSEMBLE_WORKER_IN_PROCESS: 'false' }
    : {};
  return {
    name,
    model: useRoute ? 'bench-route' : 'bench-model',
    headers: { authorization: `Bearer ${ensembleBenchKey}` },
    start: async (upstreamUrl, context) => {
      const port = await context.freePort();
      const config = join(context.workDir, `${name.replace(/\W+/g, '-').toLowerCase()}.yaml`);
      const model = (modelName: string) => `  - name: ${modelName}
    kind: chat
    provider: openai-compatible
    providerModelId: gpt-4o-mini
    baseUrl: ${upstreamUrl}/v1
`;
      writeFileSync(
        config,
        `models:\n${model('bench-model')}${model('bench-model-backup')}${useRoute ? benchRoute : ''}`,
      );
      const pinned = context.spawnGateway({
        name: name.replace(/\W+/g, '-').toLowerCase(),
        command: process.execPath,
        args: [join(context.root, 'packages/cli/bin/ensemble.js'), 'start', '--config', config],
        env: {
          ...process.env,
          HOST: '127.0.0.1',
          PORT: String(port),
          ENSEMBLE_HOME: join(context.workDir, `${name.replace(/\W+/g, '-').toLowerCase()}-home`),
          ENSEMBLE_BUILT_IN_MODELS: 'off',
          ENSEMBLE_ADMIN_KEY: ensembleBenchKey,
          // The fake upstream listens on loopback, an internal address the SSRF guard refuses unless allowed.
          OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8',
          // Every benchmark request is the same: the response cache would answer them all. Measure the proxy.
          ENSEMBLE_GATEWAY_CACHE_TTL_MS: '0',
          // Request logging off the measured path, as the peers run theirs.
          LOG_LEVEL: 'warn',
          ...busEnv,
          ...extraEnv,
        },
        cwd: context.workDir,
      });
      return fromProcess(`http://127.0.0.1:${port}`, pinned, {
        notes: [
          `API keys checked; ${useRoute ? 'calls name a route (fallback of two models, breaker, retry)' : 'calls name the model'}; usage ledger ${extraEnv.USAGE_LEDGER === 'false' ? 'off' : useKafka ? 'on (events to Kafka; the ledger consumer is a separate worker, not running here)' : 'on (embedded bus in PostgreSQL, ledger consumer in-process)'}; pass-through to the OpenAI-wire upstream`,
        ],
      });
    },
  };
}

export const ensemble = ensembleTarget('Ensemble', 'route', 'kafka');

/** The same with the usage ledger off (`USAGE_LEDGER=false`): the difference is what recording every call costs. */
export const ensembleNoLedger = ensembleTarget('Ensemble-noledger (usage ledger off)', 'route', 'kafka', {
  USAGE_LEDGER: 'false',
});

/** The same, calling the model directly: the difference to `Ensemble` is what routing costs. */
export const ensembleModel = ensembleTarget('Ensemble-model (no route)', 'model', 'kafka');

/** `ensemble start` as on a laptop: the ledger on the embedded bus (PostgreSQL) with its consumer in-process. */
export const ensembleEmbedded = ensembleTarget('Ensemble-embedded (ledger on the embedded bus)', 'route', 'embedded');

/** Every target, in the order measured. */
export const targets: Target[] = [
  direct,
  bareProxy,
  portkey,
  litellm,
  ensemble,
  ensembleNoLedger,
  ...(routesDeclarable ? [ensembleModel] : []),
  ensembleEmbedded,
];

function undiciVersion(root: string): string {
  for (const path of ['bench/node_modules/undici/package.json', 'node_modules/undici/package.json']) {
    try {
      return (JSON.parse(readFileSync(join(root, path), 'utf8')) as { version: string }).version;
    } catch {
      // try the next place
    }
  }
  return 'unknown';
}

/** Waits until the target answers a chat completion with 200 (or its process exits, or time runs out). */
export async function waitUntilServing(options: {
  url: string;
  headers: Record<string, string>;
  body: string;
  pid: number;
  timeoutMs: number;
}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      process.kill(options.pid, 0);
    } catch {
      throw new Error(`the gateway process ${options.pid} exited while starting (last: ${last})`);
    }
    try {
      const response = await fetch(`${options.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: options.body,
        signal: AbortSignal.timeout(5_000),
      });
      const text = await response.text();
      if (response.status === 200) return;
      last = `${response.status} ${text.slice(0, 300)}`;
    } catch (error) {
      last = String(error);
    }
    await sleep(250);
  }
  throw new Error(`not serving after ${options.timeoutMs} ms (last: ${last})`);
}
