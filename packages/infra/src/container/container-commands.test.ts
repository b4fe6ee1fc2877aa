import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase, testKafkaBrokers } from '@ensemble/testkit';
import { parse } from 'yaml';
import { dockerfilePath, repositoryRoot } from '../service-stack.ts';
import { parseDockerfile } from './dockerfile-instructions.ts';

// The container's contract, run for real: the ENTRYPOINT and ENV of the Dockerfile, the commands of
// docker-compose.yml (the ones ECS runs too), against the real PostgreSQL and Kafka of the test run,
// with the database password passed the ECS way (PGPASSWORD beside a password-less DATABASE_URL).
const run = promisify(execFile);
const instructions = parseDockerfile(readFileSync(join(repositoryRoot, dockerfilePath), 'utf8'));
const finalStage = Math.max(...instructions.map((i) => i.stage));
const imageEnv = Object.fromEntries(
  instructions
    .filter((i) => i.stage <= finalStage && i.keyword === 'ENV')
    .flatMap((i) => i.args.split(/\s+/).map((pair) => pair.split('=') as [string, string])),
);
const entrypoint = JSON.parse(
  instructions.find((i) => i.stage === finalStage && i.keyword === 'ENTRYPOINT')?.args ?? '[]',
) as string[];
const healthcheck = JSON.parse(
  /CMD\s+(\[.*\])\s*$/s.exec(instructions.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '')?.[1] ?? '[]',
) as string[];
const compose = parse(readFileSync(join(repositoryRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { command: string[] }>;
};
const command = (service: string) => compose.services[service]?.command ?? [];

describe('the image’s commands and environment against real PostgreSQL and Kafka', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  before(async () => {
    database = await createTestDatabase('infra');
    home = mkdtempSync(join(tmpdir(), 'ensemble-home-'));
    const url = new URL(database.url);
    const password = decodeURIComponent(url.password);
    url.password = '';
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...imageEnv,
      // What differs on a shared test machine: a free port and a temporary data folder.
      PORT: '0',
      ENSEMBLE_HOME: home,
      DATABASE_URL: url.toString(),
      ...(password ? { PGPASSWORD: password } : {}),
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_TOPIC_PARTITIONS: '3',
      KAFKA_REPLICATION_FACTOR: '1',
      // In ECS this comes from Secrets Manager; the image runs in production mode, which requires it.
      ENSEMBLE_MASTER_KEY: randomBytes(32).toString('base64'),
      // The weights are pulled into the artifact store, not baked in; this test is about the commands.
      ENSEMBLE_BUILT_IN_MODELS: 'off',
    };
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await database?.drop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  // `node` of the ENTRYPOINT is this Node 24; the script path is the image's, relative to /app.
  const argv = (args: string[]) => [...entrypoint.slice(1), ...args];
  assert.equal(entrypoint[0], 'node');

  const start = (args: string[]) => {
    const child = spawn(process.execPath, argv(args), { cwd: repositoryRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const exited = once(child, 'close').then(([code]) => code as number | null);
    return { child, output: () => output, exited };
  };

  it('migrate (the one-off task) applies the migrations and exits 0', async () => {
    const { stdout, stderr } = await run(process.execPath, argv(command('migrate')), {
      cwd: repositoryRoot,
      env,
    }).catch((error: { stdout: string; stderr: string; code: number }) =>
      assert.fail(`exit ${error.code}: ${error.stdout}${error.stderr}`),
    );
    assert.match(`${stdout}${stderr}`, /applied/);
  });

  it('the API (start --no-worker) listens on HOST=0.0.0.0, is ready, passes the image HEALTHCHECK, and drains on SIGTERM', async () => {
    const api = start(command('api'));
    const deadline = Date.now() + 60_000;
    let url = '';
    while (!url) {
      url = /"url":"(http:\/\/[^"]+)"/.exec(api.output())?.[1] ?? '';
      if (api.child.exitCode !== null) assert.fail(`exited ${api.child.exitCode}:\n${api.output()}`);
      if (Date.now() > deadline) assert.fail(`not listening after 60 s:\n${api.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const port = new URL(url).port;
    assert.match(url, /0\.0\.0\.0|\[::\]|127\.0\.0\.1|localhost/);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    // The Dockerfile's own HEALTHCHECK command, with this process's port.
    await run(process.execPath, healthcheck.slice(1), { env: { ...env, PORT: port }, timeout: 10_000 });
    api.child.kill('SIGTERM');
    assert.equal(await api.exited, 0, api.output());
  });

  it('a worker (worker) runs against Kafka and exits 0 on SIGTERM', async () => {
    const worker = start(command('worker'));
    const deadline = Date.now() + 60_000;
    while (!/ensemble worker running/.test(worker.output())) {
      if (worker.child.exitCode !== null) assert.fail(`the worker stopped:\n${worker.output()}`);
      if (Date.now() > deadline) assert.fail(`the worker did not start within 60 s:\n${worker.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.output());
  });
});
