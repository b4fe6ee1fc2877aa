import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { EnsembleError, silentLogger } from '@ensemble/core';
import { type OwnKafkaBroker, startOwnKafkaBroker, uniqueName, waitFor } from '@ensemble/testkit';
import { describeEventBusContract } from '@ensemble/testkit/event-bus-contract';
import { KafkaEventBus, type KafkaEventBusOptions } from './kafka-event-bus.ts';
import type { MskIamToken } from './msk-iam-token-provider.ts';
import { recordingLogger } from './recording-logger.ts';

// One broker for the whole file, with the listener production uses on MSK: SASL_SSL + SCRAM-SHA-512,
// its certificate signed by a throwaway CA. Started by the first test that needs it.
let started: Promise<OwnKafkaBroker> | undefined;
const broker = () => {
  started ??= startOwnKafkaBroker({ security: 'sasl-scram-tls' });
  return started;
};
after(async () => {
  await (await started)?.dispose();
});

async function secured(overrides: Partial<KafkaEventBusOptions> = {}): Promise<KafkaEventBus> {
  const { address, caFile, credentials } = await broker();
  assert.ok(caFile && credentials);
  return new KafkaEventBus({
    brokers: [address],
    clientId: uniqueName('secured'),
    replicationFactor: 1,
    connectTimeoutMs: 3_000,
    logger: silentLogger,
    tls: { ca: await readFile(caFile) },
    sasl: { mechanism: 'scram-sha-512', ...credentials },
    ...overrides,
  });
}

describeEventBusContract('kafka over SASL_SSL with SCRAM-SHA-512', async () => ({
  bus: await secured(),
  secondClient: () => secured(),
  cleanup: async () => {},
}));

async function pingFailure(bus: KafkaEventBus): Promise<{ error: EnsembleError; elapsedMs: number }> {
  const startedAt = Date.now();
  try {
    const error = await bus.ping().then(
      () => assert.fail('ping succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof EnsembleError, `an EnsembleError, got ${inspect(error)}`);
    assert.equal(error.code, 'event_bus_unavailable', error.message);
    return { error, elapsedMs: Date.now() - startedAt };
  } finally {
    await bus.close();
  }
}

describe('KafkaEventBus refused by a secured broker', { timeout: 240_000 }, () => {
  it('fails ping with "authentication failed" on a wrong password, fast, never showing the password', async () => {
    const { credentials } = await broker();
    assert.ok(credentials);
    const wrong = `${credentials.password}-wrong`;
    const logger = recordingLogger();
    const bus = await secured({
      logger,
      sasl: { mechanism: 'scram-sha-512', username: credentials.username, password: wrong },
    });
    const { error, elapsedMs } = await pingFailure(bus);
    assert.match(error.message, /authentication failed \(TLS, SASL scram-sha-512 as user 'ensemble-test'\)/);
    assert.ok(elapsedMs < 6_000, `failed within twice the connect timeout (took ${elapsedMs} ms)`);
    // Neither the error (with its causes) nor anything logged holds a password.
    const everything = `${inspect(error, { depth: 20 })}\n${JSON.stringify(error)}\n${JSON.stringify(logger.entries)}`;
    assert.ok(!everything.includes(wrong), 'the wrong password is not shown');
    assert.ok(!everything.includes(credentials.password), 'the real password is not shown');
  });

  it('fails ping on an unknown user the same way', async () => {
    const bus = await secured({ sasl: { mechanism: 'scram-sha-512', username: 'nobody', password: 'x' } });
    assert.match((await pingFailure(bus)).error.message, /authentication failed/);
  });

  it('keeps a subscription with wrong credentials retrying without crashing, and closes it', async () => {
    const logger = recordingLogger();
    const password = 'not-the-password';
    const bus = await secured({ logger, sasl: { mechanism: 'scram-sha-512', username: 'nobody', password } });
    const subscription = await bus.subscribe({ groupId: uniqueName('g'), topics: ['denied'], handler: async () => {} });
    await waitFor('a warning about the failed session', () => logger.entries.some((entry) => entry.level === 'warn'));
    const closing = Date.now();
    await subscription.close();
    await bus.close();
    assert.ok(Date.now() - closing < 15_000, 'closes promptly');
    assert.ok(!inspect(logger.entries, { depth: 20 }).includes(password), 'the password is not logged');
  });

  it('fails ping clearly when the broker certificate is not trusted (TLS without the CA)', async () => {
    const bus = await secured({ tls: true });
    const { error } = await pingFailure(bus);
    assert.match(error.message, /the TLS handshake failed, the broker's certificate was not trusted/);
    assert.match(error.message, /KAFKA_TLS_CA_FILE/);
  });

  it('fails ping clearly when the client does not use TLS', async () => {
    const bus = await secured({ tls: false });
    const { error } = await pingFailure(bus);
    assert.match(
      error.message,
      /the broker closed the connection before authentication; its listener probably requires TLS \(set KAFKA_TLS=true\)/,
    );
  });

  // Amazon MSK's IAM authentication is SASL/OAUTHBEARER with a token from AWS's signer. MSK itself is
  // not reachable from tests; the test broker accepts unsigned JWTs, which exercises the same path.
  it('authenticates with OAUTHBEARER through the aws-msk-iam token provider', async () => {
    const asked: string[] = [];
    const generateToken = async (region: string): Promise<MskIamToken> => {
      asked.push(region);
      return unsignedJwt('ensemble-iam', 15 * 60_000);
    };
    const bus = await secured({ sasl: { mechanism: 'aws-msk-iam', region: 'eu-west-1', generateToken } });
    try {
      await bus.ping();
      const topic = uniqueName('iam').replaceAll('_', '.');
      await bus.ensureTopics([{ name: topic, partitions: 1 }]);
    } finally {
      await bus.close();
    }
    assert.ok(asked.length >= 1 && asked.every((region) => region === 'eu-west-1'));
    // Every connection asks, but a token is signed once and shared until it nears expiry.
    assert.equal(asked.length, 1);
  });

  it('reports a token provider failure as an authentication failure', async () => {
    const generateToken = async (): Promise<MskIamToken> => {
      throw new Error('Could not load credentials from any providers');
    };
    const bus = await secured({ sasl: { mechanism: 'aws-msk-iam', region: 'eu-west-1', generateToken } });
    const { error } = await pingFailure(bus);
    assert.match(error.message, /authentication failed \(TLS, SASL aws-msk-iam \(region eu-west-1\)\)/);
  });
});

/** A JWT with `alg: none`, which Kafka's built-in OAUTHBEARER validator accepts (test brokers only). */
function unsignedJwt(subject: string, lifetimeMs: number): MskIamToken {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Date.now();
  const claims = { sub: subject, iat: Math.floor(now / 1000), exp: Math.floor((now + lifetimeMs) / 1000) };
  return { token: `${encode({ alg: 'none' })}.${encode(claims)}.`, expiryTime: now + lifetimeMs };
}
