import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
  /** The client listener's security (`plaintext` unless asked otherwise). */
  security: KafkaBrokerSecurity;
  /** The SCRAM user the secure SASL modes create. */
  credentials?: { username: string; password: string };
  /** PEM of the throwaway CA that signed the broker's certificate (TLS modes). */
  caFile?: string;
}

/** scripts/kafka.sh's ENSEMBLE_KAFKA_SECURITY: SCRAM-SHA-512 over plaintext or TLS, or TLS alone. */
export type KafkaBrokerSecurity = 'plaintext' | 'sasl-scram' | 'sasl-scram-tls' | 'tls';

export interface OwnKafkaBrokerOptions {
  security?: KafkaBrokerSecurity;
}

export async function startOwnKafkaBroker(options: OwnKafkaBrokerOptions = {}): Promise<OwnKafkaBroker> {
  const security = options.security ?? 'plaintext';
  const dir = await mkdtemp(join(tmpdir(), 'ensemble-kafka-'));
  const credentials = security.startsWith('sasl')
    ? { username: 'ensemble-test', password: `pw-${randomBytes(12).toString('hex')}` }
    : undefined;
  const securityEnv =
    security === 'plaintext'
      ? {}
      : {
          ENSEMBLE_KAFKA_SECURITY: security,
          ...(credentials
            ? { ENSEMBLE_KAFKA_SASL_USERNAME: credentials.username, ENSEMBLE_KAFKA_SASL_PASSWORD: credentials.password }
            : {}),
        };
  const kafka = async (command: 'start' | 'stop') => {
    const { stdout } = await run('bash', [join(root, 'scripts/kafka.sh'), command], {
      cwd: root,
      env: { ...process.env, ENSEMBLE_KAFKA_DIR: dir, ...securityEnv },
      timeout: 10 * 60_000,
    });
    return stdout.trim().split('\n').at(-1) ?? '';
  };
  const address = await kafka('start').catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    address,
    security,
    ...(credentials ? { credentials } : {}),
    ...(security.endsWith('tls') ? { caFile: join(dir, 'tls', 'ca.pem') } : {}),
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
