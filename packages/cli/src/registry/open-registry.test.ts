import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabase, type Database, runMigrations } from '@ensemble/adapters/postgres';
import { type EnsembleConfig, EnsembleError, parseConfig, silentLogger } from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { loadMasterKeys } from './master-key.ts';
import { openRegistry } from './open-registry.ts';

const key = Buffer.alloc(32, 9).toString('base64');

function configWith(file: Record<string, unknown>, env: Record<string, string> = {}): EnsembleConfig {
  return parseConfig({ env: { ENSEMBLE_MASTER_KEY: key, ...env }, file: { path: 'ensemble.yaml', content: file } });
}

const declared = (extra: Record<string, unknown> = {}) => ({
  credentials: [
    { name: 'openai', provider: 'openai', apiKeyEnv: 'TEST_OPENAI_KEY' },
    { name: 'groq', provider: 'groq', apiKeyEnv: 'TEST_GROQ_KEY_UNSET' },
  ],
  models: [
    {
      name: 'openai/gpt-4o-mini',
      kind: 'chat',
      provider: 'openai',
      providerModelId: 'gpt-4o-mini',
      credential: 'openai',
      aliases: ['production'],
      ...extra,
    },
    { name: 'local/minilm', kind: 'embedding', provider: 'local', providerModelId: 'all-minilm-l6-v2' },
  ],
});

describe('master key', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ensemble-key-'));
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('generates one into ENSEMBLE_HOME/master.key (mode 600) once, then reuses it', async () => {
    const config = parseConfig({ env: { ENSEMBLE_HOME: home } });
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_: object, message?: string) => warnings.push(message ?? '') };
    const first = await loadMasterKeys({ config, logger, production: false });
    const again = await loadMasterKeys({ config, logger, production: false });
    assert.deepEqual(first.current, again.current);
    assert.equal((await stat(join(home, 'master.key'))).mode & 0o777, 0o600);
    assert.equal(Buffer.from((await readFile(join(home, 'master.key'), 'utf8')).trim(), 'base64').length, 32);
    assert.equal(warnings.filter((w) => w.includes('generated a master key')).length, 1);
  });

  it('takes ENSEMBLE_MASTER_KEY and its predecessors, and insists on it in production', async () => {
    const config = parseConfig({ env: { ENSEMBLE_MASTER_KEY: key, ENSEMBLE_MASTER_KEY_PREVIOUS: key } });
    const keys = await loadMasterKeys({ config, logger: silentLogger, production: true });
    assert.equal(keys.current.toString('base64'), key);
    assert.equal(keys.previous?.length, 1);
    await assert.rejects(
      loadMasterKeys({ config: parseConfig({ env: { ENSEMBLE_HOME: home } }), logger: silentLogger, production: true }),
      /ENSEMBLE_MASTER_KEY is not set/,
    );
  });
});

describe('ensemble.yaml reconciliation', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  const env = { TEST_OPENAI_KEY: 'sk-test-0123456789abcdef' };

  before(async () => {
    testDatabase = await createTestDatabase('reconcile');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
  });

  after(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  const open = (file: Record<string, unknown>, environment: Record<string, string> = env) =>
    openRegistry({ config: configWith(file), database, logger: silentLogger, env: environment, production: true });

  it('creates what is missing, then changes nothing when run again', async () => {
    const first = await open(declared());
    assert.deepEqual(
      first.report.models.map((m) => [m.name, m.outcome, m.version]),
      [
        ['openai/gpt-4o-mini', 'created', 1],
        ['local/minilm', 'created', 1],
      ],
    );
    assert.deepEqual(
      first.report.credentials.map((c) => [c.name, c.outcome]),
      [
        ['openai', 'created'],
        ['groq', 'skipped'],
      ],
    );
    assert.equal(await first.credentials.reveal('default', 'openai'), env.TEST_OPENAI_KEY);
    assert.equal((await first.models.resolve('default', 'openai/gpt-4o-mini:production')).version, 1);

    const second = await open(declared());
    assert.ok([...second.report.models, ...second.report.credentials].every((item) => item.outcome !== 'created'));
    assert.ok(second.report.models.every((m) => m.outcome === 'unchanged'));
    assert.equal((await second.models.listVersions('default', 'openai/gpt-4o-mini', { limit: 10 })).items.length, 1);
  });

  it('adds a version when a spec changed, moving the aliases the file names, and leaves the rest alone', async () => {
    // Someone registered a model by hand: the file does not mention it, so it stays.
    const registry = await open(declared());
    await registry.models.register(
      {
        name: 'manual/model',
        kind: 'chat',
        provider: 'openai',
        providerModelId: 'x',
        projectId: 'default',
        description: '',
        tags: [],
        aliases: [],
        parameters: {},
        options: {},
        capabilities: {},
      },
      { actor: 'test' },
    );
    const changed = await open(declared({ parameters: { temperature: 0.1 }, description: 'cheap' }));
    const gpt = changed.report.models.find((m) => m.name === 'openai/gpt-4o-mini');
    assert.deepEqual(gpt && [gpt.outcome, gpt.version], ['versioned', 2]);
    const resolved = await changed.models.resolve('default', 'openai/gpt-4o-mini:production');
    assert.equal(resolved.version, 2);
    assert.equal(resolved.description, 'cheap');
    assert.deepEqual(resolved.parameters, { temperature: 0.1 });
    assert.equal((await changed.models.resolve('default', 'manual/model')).status, 'registered');
    const again = await open(declared({ parameters: { temperature: 0.1 }, description: 'cheap' }));
    assert.ok(again.report.models.every((m) => m.outcome === 'unchanged'));

    // A changed key in the environment replaces the stored one.
    const rotated = await open(declared({ parameters: { temperature: 0.1 }, description: 'cheap' }), {
      TEST_OPENAI_KEY: 'sk-test-new-key-9876543210',
    });
    assert.equal(rotated.report.credentials[0]?.outcome, 'updated');
  });

  it('retires only what is marked, and refuses a changed kind naming the entry', async () => {
    const retired = await open(declared({ retire: true, parameters: { temperature: 0.1 }, description: 'cheap' }));
    assert.equal(retired.report.models[0]?.outcome, 'retired');
    assert.equal((await retired.models.resolve('default', 'openai/gpt-4o-mini')).status, 'retired');

    const bad = declared();
    const second = bad.models[1];
    assert.ok(second);
    second.kind = 'chat';
    await assert.rejects(open(bad), (error: unknown) => {
      assert.ok(error instanceof EnsembleError);
      assert.equal(error.code, 'config_invalid');
      assert.match(error.message, /ensemble\.yaml: models\[1\]\.kind: 'local\/minilm' is registered as embedding/);
      return true;
    });
    await assert.rejects(
      open({ models: [{ ...declared().models[1], projectId: 'nope' }] }),
      /models\[0\]: project 'nope'/,
    );
  });
});
