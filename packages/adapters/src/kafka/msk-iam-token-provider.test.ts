import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMskIamTokenProvider, type MskIamToken } from './msk-iam-token-provider.ts';

describe('createMskIamTokenProvider', () => {
  it('signs once and shares the token until it nears expiry', async () => {
    let now = 1_000_000;
    let signed = 0;
    const generate = async (): Promise<MskIamToken> => ({ token: `t${++signed}`, expiryTime: now + 15 * 60_000 });
    const token = createMskIamTokenProvider({ region: 'eu-west-1', generate, now: () => now });
    assert.deepEqual(await Promise.all([token(), token(), token()]), ['t1', 't1', 't1']);
    now += 9 * 60_000; // 6 minutes left: still good
    assert.equal(await token(), 't1');
    now += 2 * 60_000; // 4 minutes left: replaced
    assert.equal(await token(), 't2');
    assert.equal(signed, 2);
  });

  it('does not keep a failed signing: the next connection asks again', async () => {
    let attempts = 0;
    const generate = async (): Promise<MskIamToken> => {
      attempts += 1;
      if (attempts === 1) throw new Error('no credentials yet');
      return { token: 'ok', expiryTime: Date.now() + 15 * 60_000 };
    };
    const token = createMskIamTokenProvider({ region: 'eu-west-1', generate });
    await assert.rejects(token(), /no credentials yet/);
    assert.equal(await token(), 'ok');
  });

  // AWS's signer with credentials from the environment (the first link of the default chain):
  // offline, it shows the token is a presigned kafka-cluster:Connect request for the region.
  it("uses AWS's signer with the default credential chain", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    });
    try {
      const token = await createMskIamTokenProvider({ region: 'eu-west-1' })();
      const url = new URL(Buffer.from(token, 'base64url').toString('utf8'));
      assert.equal(url.host, 'kafka.eu-west-1.amazonaws.com');
      assert.equal(url.searchParams.get('Action'), 'kafka-cluster:Connect');
      assert.match(
        url.searchParams.get('X-Amz-Credential') ?? '',
        /^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\//,
      );
      assert.ok(!token.includes('wJalrXUtnFEMI'));
    } finally {
      for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });
});
