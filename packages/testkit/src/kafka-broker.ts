import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** A Kafka broker of a test's own (scripts/kafka.sh in a private folder), for stopping mid-test. */
export interface OwnKafkaBroker {
  /** `127.0.0.1:<port>`, stable across stop/start. */
  address: string;
  stop(): Promise<void>;
  /** Starts it again; resolves with its address (the same as before). */
  start(): Promise<string>;
  /** Stops it and deletes its folder. */
  dispose(): Promise<void>;
}

export async function startOwnKafkaBroker(): Promise<OwnKafkaBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'ensemble-kafka-'));
  const kafka = async (command: 'start' | 'stop') => {
    const { stdout } = await run('bash', [join(root, 'scripts/kafka.sh'), command], {
      cwd: root,
      env: { ...process.env, ENSEMBLE_KAFKA_DIR: dir },
      timeout: 10 * 60_000,
    });
    return stdout.trim().split('\n').at(-1) ?? '';
  };
  const address = await kafka('start');
  return {
    address,
    stop: async () => {
      await kafka('stop');
    },
    start: () => kafka('start'),
    dispose: async () => {
      await kafka('stop').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
