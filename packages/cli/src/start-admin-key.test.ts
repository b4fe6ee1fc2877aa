import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runEnsemble, spawnEnsemble } from './testing/ensemble-process.ts';

const generatedKey = /ens_[A-Za-z0-9]{43}/g;

async function freshHome(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'ensemble-keys-'));
  // Run as root (CI), the embedded PostgreSQL runs as 'postgres' and must be able to reach its folder.
  await chmod(home, 0o755);
  return home;
}

const projects = (url: string, authorization?: string) =>
  fetch(`${url}/api/projects`, authorization === undefined ? {} : { headers: { authorization } });

// `npm ci && npm start` with no configuration: the admin key is generated, shown once, and findable.
describe('ensemble start: the bootstrap admin key', { timeout: 240_000 }, () => {
  const homes: string[] = [];
  before(async () => {
    homes.push(await freshHome(), await freshHome());
  });
  after(async () => {
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it('is generated at first start, printed once, kept in admin.key (600), and replaced by ENSEMBLE_ADMIN_KEY', async () => {
    const home = homes[0] as string;
    const first = await spawnEnsemble(['start', '--no-worker'], { ENSEMBLE_HOME: home, ENSEMBLE_ADMIN_KEY: undefined });
    let secret: string;
    try {
      const shown = first.output().match(generatedKey) ?? [];
      assert.equal(shown.length, 1, `printed exactly once:\n${first.output()}`);
      secret = shown[0] as string;
      const file = join(home, 'admin.key');
      assert.equal((await readFile(file, 'utf8')).trim(), secret);
      assert.equal((await stat(file)).mode & 0o777, 0o600);

      const refused = await projects(first.url);
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
      const { error } = (await refused.json()) as { error: { type: string; code: string; param: string } };
      assert.deepEqual([error.type, error.code], ['authentication_error', 'unauthorized']);
      assert.equal((await projects(first.url, `Bearer ${secret}`)).status, 200);

      const created = await fetch(`${first.url}/api/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'an application' }),
      });
      assert.equal(created.status, 201);
      const appKey = ((await created.json()) as { secret: string }).secret;
      const listed = await fetch(`${first.url}/api/models`, { headers: { authorization: `Bearer ${appKey}` } });
      assert.equal(listed.status, 200, 'the new key works');
      assert.ok(!first.output().includes(appKey), 'a created key is never logged');
    } finally {
      assert.equal(await first.stop(), 0, first.output());
    }

    const again = await spawnEnsemble(['start', '--no-worker'], { ENSEMBLE_HOME: home, ENSEMBLE_ADMIN_KEY: undefined });
    try {
      assert.equal(again.output().match(generatedKey), null, 'never shown again');
      assert.match(again.output(), /bootstrap admin API key in place/);
      assert.equal((await projects(again.url, `Bearer ${secret}`)).status, 200);
    } finally {
      assert.equal(await again.stop(), 0, again.output());
    }

    const chosen = await spawnEnsemble(['start', '--no-worker'], { ENSEMBLE_HOME: home });
    try {
      assert.equal((await projects(chosen.url, chosen.auth.authorization)).status, 200);
      const old = await projects(chosen.url, `Bearer ${secret}`);
      assert.equal(old.status, 401, 'the generated key was replaced');
      assert.equal(((await old.json()) as { error: { details: { reason: string } } }).error.details.reason, 'revoked');
      assert.ok(!chosen.output().includes(chosen.adminKey as string), 'a chosen key is never printed');
    } finally {
      assert.equal(await chosen.stop(), 0, chosen.output());
    }
  });

  it('in production is printed once and never written to disk', async () => {
    const home = homes[1] as string;
    const ensemble = await spawnEnsemble(['start', '--no-worker'], {
      ENSEMBLE_HOME: home,
      ENSEMBLE_ADMIN_KEY: undefined,
      NODE_ENV: 'production',
      ENSEMBLE_MASTER_KEY: randomBytes(32).toString('base64'),
    });
    try {
      const shown = ensemble.output().match(generatedKey) ?? [];
      assert.equal(shown.length, 1, ensemble.output());
      assert.equal(existsSync(join(home, 'admin.key')), false);
      assert.match(ensemble.output(), /set ENSEMBLE_ADMIN_KEY from a secret store/);
      assert.equal((await projects(ensemble.url, `Bearer ${shown[0]}`)).status, 200);
    } finally {
      assert.equal(await ensemble.stop(), 0, ensemble.output());
    }
  });

  it('refuses an unfit ENSEMBLE_ADMIN_KEY at start, naming it and never echoing it', async () => {
    for (const value of ['too-short-key', `${'a'.repeat(40)}`, `has spaces in it ${'x1y2z3'.repeat(6)}`]) {
      const { code, output } = await runEnsemble(['start'], { ENSEMBLE_HOME: homes[1], ENSEMBLE_ADMIN_KEY: value });
      assert.equal(code, 78, output);
      assert.match(output, /ENSEMBLE_ADMIN_KEY: /);
      assert.ok(!output.includes(value), 'the value is not echoed');
    }
  });
});
