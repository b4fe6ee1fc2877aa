import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { dockerfilePath, repositoryRoot } from '../service-stack.ts';

// docker-compose.yml: validated by `docker compose config` (the client alone, no engine) when the
// compose plugin is installed (packages/infra/scripts/install-docker-compose.sh), and always checked
// for the production topology below, on compose's normalized model or on the YAML itself.
const run = promisify(execFile);
const composeFile = join(repositoryRoot, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  deploy?: { replicas?: number };
  env_file?: Array<string | { path: string; required?: boolean }>;
  environment?: Record<string, string | number | null>;
  restart?: string;
  stop_grace_period?: string;
}
interface Model {
  services: Record<string, Service>;
}

type Compose = { argv: string[]; version: string };
let composeCli: Promise<Compose | undefined> | undefined;
/** `docker compose` (the plugin) or a standalone `docker-compose` v2, if one works here. */
function findCompose(): Promise<Compose | undefined> {
  composeCli ??= (async () => {
    for (const argv of [['docker', 'compose'], ['docker-compose']]) {
      const [file, ...args] = argv as [string, ...string[]];
      const found = await run(file, [...args, 'version', '--short']).then(
        ({ stdout }) => stdout.trim(),
        () => undefined,
      );
      if (found && !found.startsWith('1.')) return { argv, version: found };
    }
    return undefined;
  })();
  return composeCli;
}

async function compose(args: string[], cwd = repositoryRoot) {
  const cli = await findCompose();
  assert.ok(cli);
  const [file, ...prefix] = cli.argv as [string, ...string[]];
  return run(file, [...prefix, ...args], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
}

let model: Promise<{ model: Model; source: string }> | undefined;
/** Compose's normalized model when the CLI exists, else the YAML with its merge keys applied. */
function loadModel() {
  model ??= (async () => {
    if (await findCompose()) {
      const { stdout } = await compose(['-f', composeFile, 'config', '--format', 'json']);
      return { model: JSON.parse(stdout) as Model, source: 'docker compose config' };
    }
    return { model: parse(readFileSync(composeFile, 'utf8'), { merge: true }) as Model, source: 'YAML' };
  })();
  return model;
}

test('docker compose config accepts the file', async (t) => {
  const cli = await findCompose();
  if (!cli) {
    // CI installs the plugin (.ci/run), so there a missing one is a failure, not a skip.
    if (process.env.CI) assert.fail('no docker compose v2: .ci/run should have installed it');
    t.skip('no docker compose v2 here: run packages/infra/scripts/install-docker-compose.sh');
    return;
  }
  await compose(['-f', composeFile, 'config', '--quiet']);
});

test('docker compose config rejects a broken file (the validation is real)', async (t) => {
  if (!(await findCompose())) {
    if (process.env.CI) assert.fail('no docker compose v2: .ci/run should have installed it');
    t.skip('no docker compose v2 here');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ensemble-compose-'));
  const broken = join(dir, 'docker-compose.yml');
  writeFileSync(
    broken,
    'services:\n  api:\n    image: x\n    depends_on:\n      db:\n        condition: service_sleeping\n',
  );
  await assert.rejects(compose(['-f', broken, 'config', '--quiet'], dir));
});

test('PostgreSQL and Kafka (KRaft) from official images pinned to exact versions, with healthchecks', async () => {
  const { model: m } = await loadModel();
  assert.match(m.services.postgres?.image ?? '', /^postgres:\d+\.\d+-bookworm$/);
  assert.match(m.services.kafka?.image ?? '', /^apache\/kafka:4\.\d+\.\d+$/);
  const kafka = m.services.kafka?.environment ?? {};
  assert.equal(kafka.KAFKA_PROCESS_ROLES, 'broker,controller');
  assert.ok(!Object.keys(kafka).some((key) => key.includes('ZOOKEEPER')), 'KRaft, no ZooKeeper');
  for (const name of ['postgres', 'kafka']) {
    assert.ok(m.services[name]?.healthcheck?.test?.length, `${name} has a healthcheck`);
  }
});

test('migrate runs once before the API and the workers, which wait for healthy PostgreSQL and Kafka', async () => {
  const { model: m } = await loadModel();
  const { migrate, api, worker } = m.services;
  assert.deepEqual(migrate?.command, ['migrate']);
  assert.equal(migrate?.restart, 'no');
  assert.equal(migrate?.depends_on?.postgres?.condition, 'service_healthy');
  for (const [name, service] of Object.entries({ api, worker })) {
    assert.equal(service?.depends_on?.migrate?.condition, 'service_completed_successfully', name);
    assert.equal(service?.depends_on?.postgres?.condition, 'service_healthy', name);
    assert.equal(service?.depends_on?.kafka?.condition, 'service_healthy', name);
  }
  // Every dependency on health points at a service that has a healthcheck.
  for (const [name, service] of Object.entries(m.services)) {
    for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
      assert.ok(m.services[dependency], `${name} depends on unknown ${dependency}`);
      if (condition === 'service_healthy')
        assert.ok(m.services[dependency]?.healthcheck?.test, `${dependency} healthcheck`);
    }
  }
});

test('the API and two workers run the one image with the ECS commands', async () => {
  const { model: m } = await loadModel();
  const { api, worker, migrate } = m.services;
  assert.deepEqual(api?.command, ['start', '--no-worker']);
  assert.deepEqual(worker?.command, ['worker']);
  assert.equal(worker?.deploy?.replicas, 2);
  assert.equal(worker?.healthcheck?.disable, true, 'workers serve no HTTP');
  assert.ok(api?.healthcheck?.test?.join(' ').includes('/readyz'));
  for (const service of [api, worker, migrate]) {
    assert.equal(service?.image, 'ensemble:local');
    assert.ok(service?.build?.dockerfile.endsWith(dockerfilePath), service?.build?.dockerfile);
  }
  // Configured from .env.example (then an optional .env), as the file says…
  const raw = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as Model;
  for (const name of ['api', 'worker', 'migrate']) {
    const envFiles = (raw.services[name]?.env_file ?? []).map((f) => (typeof f === 'string' ? { path: f } : f));
    assert.deepEqual(envFiles, [{ path: '.env.example' }, { path: '.env', required: false }], name);
  }
  // …which compose resolves into each container's environment.
  if ((await loadModel()).source === 'docker compose config') {
    assert.equal(api?.environment?.KAFKA_BROKERS, 'kafka:9092');
    assert.match(String(worker?.environment?.DATABASE_URL), /@postgres:5432\//);
  }
});

test('.env.example names the settings compose needs and holds no real secret', () => {
  const file = join(repositoryRoot, '.env.example');
  assert.ok(existsSync(file));
  const entries = Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /^\w+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  assert.match(entries.DATABASE_URL ?? '', /@postgres:5432\//);
  assert.equal(entries.KAFKA_BROKERS, 'kafka:9092');
  for (const key of [
    'ENSEMBLE_MASTER_KEY',
    'ENSEMBLE_ADMIN_KEY',
    'OPENAI_API_KEY',
    'ANTHROPIC_API_KEY',
    'PINECONE_API_KEY',
  ]) {
    assert.equal(entries[key], '', `${key} is left empty`);
  }
});
