import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { describeKafkaSecurity, kafkaClientSecurity } from './kafka-security.ts';

describe('kafkaClientSecurity', () => {
  it('leaves a plaintext, unauthenticated client alone', () => {
    assert.deepEqual(kafkaClientSecurity(undefined, undefined), {});
    assert.deepEqual(kafkaClientSecurity(false, undefined), {});
  });

  it('turns on TLS with the system CAs, or with a private CA', () => {
    assert.deepEqual(kafkaClientSecurity(true, undefined), { tls: {} });
    assert.deepEqual(kafkaClientSecurity({ ca: 'PEM' }, undefined), { tls: { ca: 'PEM' } });
  });

  it("maps SCRAM to the client's mechanism, the password behind a function", async () => {
    const { sasl } = kafkaClientSecurity(true, { mechanism: 'scram-sha-512', username: 'svc', password: 's3cr3t' });
    assert.equal(sasl?.mechanism, 'SCRAM-SHA-512');
    assert.equal(sasl?.username, 'svc');
    const password = sasl?.password;
    assert.ok(typeof password === 'function');
    assert.equal(await password(), 's3cr3t');
    assert.ok(!inspect(sasl, { depth: 10 }).includes('s3cr3t') && !JSON.stringify(sasl).includes('s3cr3t'));
    assert.equal(
      kafkaClientSecurity(false, { mechanism: 'plain', username: 'u', password: 'p' }).sasl?.mechanism,
      'PLAIN',
    );
  });

  it('maps aws-msk-iam to OAUTHBEARER with a token provider', async () => {
    const { sasl } = kafkaClientSecurity(true, {
      mechanism: 'aws-msk-iam',
      region: 'eu-west-1',
      generateToken: async (region) => ({ token: `token-for-${region}`, expiryTime: Date.now() + 900_000 }),
    });
    assert.equal(sasl?.mechanism, 'OAUTHBEARER');
    const token = sasl?.token;
    assert.ok(typeof token === 'function');
    assert.equal(await token(), 'token-for-eu-west-1');
  });

  it('describes the security for messages without any credential', () => {
    assert.equal(describeKafkaSecurity(undefined, undefined), 'plaintext');
    const label = describeKafkaSecurity(
      { ca: 'PEM' },
      { mechanism: 'scram-sha-256', username: 'svc', password: 'pw1' },
    );
    assert.equal(label, "TLS, SASL scram-sha-256 as user 'svc'");
    assert.equal(
      describeKafkaSecurity(true, { mechanism: 'aws-msk-iam', region: 'us-east-1' }),
      'TLS, SASL aws-msk-iam (region us-east-1)',
    );
  });
});
