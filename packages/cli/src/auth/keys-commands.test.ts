import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { type EnsembleProcess, runEnsemble, spawnEnsemble } from '../testing/ensemble-process.ts';

// `ensemble keys …` against a real `ensemble start`: the CLI is a client of /api/keys, so the server's
// checks (roles, validation) are the ones a terminal user meets.
describe('ensemble keys create | list | revoke', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let home: string;
  let ensemble: EnsembleProcess;
  let client: Record<string, string>;
  const get = (path: string, secret: string) =>
    fetch(`${ensemble.url}${path}`, { headers: { authorization: `Bearer ${secret}` } });

  before(async () => {
    database = await createTestDatabase('keys_cli');
    home = await mkdtemp(join(tmpdir(), 'ensemble-keys-home-'));
    ensemble = await spawnEnsemble(['start', '--no-worker'], { DATABASE_URL: database.url, ENSEMBLE_HOME: home });
    client = { ENSEMBLE_URL: ensemble.url, ENSEMBLE_API_KEY: ensemble.adminKey as string };
  });
  after(async () => {
    assert.equal(await ensemble.stop(), 0, ensemble.output());
    await database.drop();
    await rm(home, { recursive: true, force: true });
  });

  it('creates a key whose secret works and is printed once, lists it, and revokes it', async () => {
    const created = await runEnsemble(
      ['keys', 'create', 'ci-reader', '--role', 'viewer', '--tag', 'ci', '--model', 'local/minilm'],
      client,
    );
    assert.equal(created.code, 0, created.output);
    const secret = /ens_[A-Za-z0-9_-]{20,}/.exec(created.output)?.[0];
    assert.ok(secret, created.output);
    const id = /key_[A-Za-z0-9]{16}/.exec(created.output)?.[0] as string;
    assert.match(created.output, /created key_\w+ 'ci-reader' in project default \(viewer\)/);

    // A viewer reads, but may not create keys.
    assert.equal((await get('/api/models', secret)).status, 200);
    const refused = await fetch(`${ensemble.url}/api/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'escalate' }),
    });
    assert.equal(refused.status, 403);

    const listed = await runEnsemble(['keys', 'list'], client);
    assert.equal(listed.code, 0, listed.output);
    const row = listed.output.split('\n').find((line) => line.startsWith(id));
    assert.ok(row, listed.output);
    assert.match(row, /ci-reader +viewer +ens_\w+… +local\/minilm +- +\S+ +active/);
    assert.ok(!listed.output.includes(secret), 'a listing never shows a secret');

    const revoked = await runEnsemble(['keys', 'revoke', id], client);
    assert.equal(revoked.code, 0, revoked.output);
    assert.match(revoked.output, new RegExp(`revoked ${id} 'ci-reader' at \\d{4}-`));
    assert.equal((await get('/api/models', secret)).status, 401);
    assert.doesNotMatch((await runEnsemble(['keys', 'list'], client)).output, new RegExp(id));
    assert.match((await runEnsemble(['keys', 'list', '--revoked'], client)).output, new RegExp(`${id}.+revoked`));
  });

  it("reports the server's refusal naming the field, without a stack trace", async () => {
    const bad = await runEnsemble(['keys', 'create', 'x', '--role', 'boss'], client);
    assert.equal(bad.code, 1, bad.output);
    assert.match(bad.output, /role/);
    assert.doesNotMatch(bad.output, /\n\s+at /);
    const noKey = await runEnsemble(['keys', 'list'], {
      ENSEMBLE_URL: ensemble.url,
      ENSEMBLE_HOME: join(home, 'none'),
    });
    assert.equal(noKey.code, 1, noKey.output);
    assert.match(noKey.output, /no API key/);
  });
});
