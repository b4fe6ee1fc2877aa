import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { EnsembleError, parseConfig, silentLogger } from '@ensemble/core';
import { loadMasterKeys } from './master-key.ts';

describe('loadMasterKeys', () => {
  it('takes a base64 key as its 32 bytes', async () => {
    const key = randomBytes(32);
    const config = parseConfig({ env: { ENSEMBLE_MASTER_KEY: key.toString('base64') } });
    const keys = await loadMasterKeys({ config, logger: silentLogger, production: true });
    assert.deepEqual(keys.current, key);
  });

  it('derives a stable 32-byte key from a secret store generated string (as the CDK app makes)', async () => {
    const generated = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4Y5z6A7b8C9d0E1f2';
    const config = parseConfig({ env: { ENSEMBLE_MASTER_KEY: generated } });
    const first = await loadMasterKeys({ config, logger: silentLogger, production: true });
    const second = await loadMasterKeys({ config, logger: silentLogger, production: true });
    assert.equal(first.current.length, 32);
    assert.deepEqual(first.current, second.current);
    assert.notDeepEqual(first.current, Buffer.from(generated, 'base64').subarray(0, 32));
  });

  it('refuses a weak or malformed key at start, naming the variable', () => {
    for (const bad of ['secret', 'too-short-but-has-punctuation!!', 'a'.repeat(39)]) {
      assert.throws(
        () => parseConfig({ env: { ENSEMBLE_MASTER_KEY: bad } }),
        (error: unknown) => error instanceof EnsembleError && /ENSEMBLE_MASTER_KEY/.test(error.message),
      );
    }
  });

  it('refuses to run in production without a key', async () => {
    await assert.rejects(
      loadMasterKeys({ config: parseConfig({ env: {} }), logger: silentLogger, production: true }),
      /ENSEMBLE_MASTER_KEY is not set/,
    );
  });
});
