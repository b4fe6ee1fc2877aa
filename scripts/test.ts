/**
 * `npm test`: starts the real services the integration tests need (a PostgreSQL server run by
 * Ensemble's own embedded-server class, and the Apache Kafka broker of scripts/kafka.sh), runs every
 * `*.test.ts` with node's test runner, then stops what it started. Services that are already given
 * through ENSEMBLE_TEST_DATABASE_URL / ENSEMBLE_TEST_KAFKA_BROKERS are used as they are.
 *
 *   npm test                              all tests
 *   npm test -- packages/server/src/x.test.ts   some files (services still started)
 */
import { execFile, spawn } from 'node:child_process';
import { globSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const log = (message: string) => process.stderr.write(`[npm test] ${message}\n`);
const wholeRunTimeoutMs = 60 * 60_000;

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const files =
  requested.length > 0
    ? requested
    : globSync(
        [
          'packages/*/src/**/*.test.ts',
          'packages/console/e2e/**/*.test.ts',
          'scripts/**/*.test.ts',
          'bench/**/*.test.ts',
        ],
        {
          cwd: root,
          exclude: (name) => name.includes('node_modules'),
        },
      ).sort();
if (files.length === 0) {
  log('no test files found');
  process.exit(1);
}

const stops: Array<() => Promise<void>> = [];
const env: NodeJS.ProcessEnv = { ...process.env };

async function startPostgres(): Promise<void> {
  if (env.ENSEMBLE_TEST_DATABASE_URL) return;
  const { EmbeddedPostgresServer } = await import('@ensemble/adapters/postgres');
  const { EnsembleError } = await import('@ensemble/core');
  const start = async (dataDir: string) => {
    const server = new EmbeddedPostgresServer({ dataDir, port: 0 });
    return { server, ...(await server.start()) };
  };
  let started: Awaited<ReturnType<typeof start>>;
  try {
    started = await start(join(root, '.cache/test-postgres'));
  } catch (error) {
    // Another `npm test` holds the shared cluster: run a private one for this run, removed after.
    if (!(error instanceof EnsembleError && error.code === 'conflict')) throw error;
    const privateDir = join(root, `.cache/test-postgres-${process.pid}`);
    started = await start(privateDir);
    stops.push(() => rm(privateDir, { recursive: true, force: true }));
  }
  const { server, url } = started;
  env.ENSEMBLE_TEST_DATABASE_URL = url;
  stops.push(() => server.stop());
  log(`PostgreSQL at ${new URL(url).host}`);
}

async function startKafka(): Promise<void> {
  if (env.ENSEMBLE_TEST_KAFKA_BROKERS) return;
  const script = join(root, 'scripts/kafka.sh');
  const wasRunning = await run('bash', [script, 'status'], { cwd: root }).then(
    () => true,
    () => false,
  );
  const { stdout } = await run('bash', [script, 'start'], { cwd: root, timeout: 10 * 60_000 });
  const address = stdout.trim().split('\n').at(-1) ?? '';
  if (!/^[\w.-]+:\d+$/.test(address)) throw new Error(`scripts/kafka.sh start printed no broker address: ${stdout}`);
  env.ENSEMBLE_TEST_KAFKA_BROKERS = address;
  if (!wasRunning) stops.push(() => run('bash', [script, 'stop'], { cwd: root }).then(() => undefined));
  log(`Kafka broker at ${address}${wasRunning ? ' (already running)' : ''}`);
}

async function stopAll(): Promise<void> {
  for (const stop of stops.reverse()) {
    await stop().catch((error: unknown) => log(`could not stop a service: ${String(error)}`));
  }
}

async function main(): Promise<number> {
  await Promise.all([startPostgres(), startKafka()]);
  log(`running ${files.length} test files`);
  const child = spawn(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-force-exit', '--test-reporter=spec', ...files],
    { cwd: root, env, stdio: 'inherit' },
  );
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const guard = setTimeout(() => {
    log(`the test run exceeded ${wholeRunTimeoutMs / 60_000} minutes; stopping it`);
    child.kill('SIGKILL');
  }, wholeRunTimeoutMs);
  const code = await new Promise<number>((resolve) => child.on('exit', (status) => resolve(status ?? 1)));
  clearTimeout(guard);
  return code;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  log(`could not start the test services: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await stopAll();
}
process.exit(exitCode);
