import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { EnsembleError, newCredentialSchema } from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { createDatabase, type Database } from './create-database.ts';
import { CredentialCipher, masterKeyId } from './credential-cipher.ts';
import { runMigrations } from './migration-runner.ts';
import { PostgresCredentialRepository } from './postgres-credential-repository.ts';

const secretA = `sk-proj-${randomBytes(24).toString('hex')}`;
const secretB = `sk-ant-${randomBytes(24).toString('hex')}`;
const credential = (name: string, secret: string, provider = 'openai') =>
  newCredentialSchema.parse({ name, provider, secret });

describe('PostgresCredentialRepository', { timeout: 120_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  /** Every byte the table holds, as PostgreSQL stores and would dump it. */
  const tableBytes = async () => {
    const { rows } = await database.pool.query<{ row: Buffer }>(
      `select convert_to(c::text, 'UTF8') || ciphertext || iv || auth_tag as row from credentials c`,
    );
    return Buffer.concat(rows.map((r) => r.row));
  };

  before(async () => {
    testDatabase = await createTestDatabase('credentials');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
  });

  after(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it('stores secrets encrypted, never returns them, and decrypts them for runtimes', async () => {
    const credentials = new PostgresCredentialRepository(database.db, new CredentialCipher({ current: oldKey }));
    const created = await credentials.create(credential('openai', secretA));
    assert.equal(created.hint, `sk-…${secretA.slice(-4)}`);
    assert.equal(created.keyId, masterKeyId(oldKey));
    assert.ok(!JSON.stringify(created).includes(secretA.slice(8, 20)));
    await credentials.create(credential('anthropic', secretB, 'anthropic'));
    await assert.rejects(credentials.create(credential('openai', 'x'.repeat(20))), { code: 'conflict' });
    assert.equal(await credentials.reveal('default', 'openai'), secretA);
    assert.equal(await credentials.reveal('default', 'anthropic'), secretB);

    const bytes = await tableBytes();
    for (const secret of [secretA, secretB]) {
      // Neither the secret nor any 12-character piece of it (beyond the 4-character hint) is stored.
      for (let i = 0; i + 12 <= secret.length; i += 4) {
        assert.equal(bytes.indexOf(Buffer.from(secret.slice(i, i + 12))), -1, `plaintext found at ${i}`);
      }
    }
    const page = await credentials.list({ limit: 1 });
    assert.equal(page.items[0]?.name, 'anthropic');
    const rest = await credentials.list({ limit: 1, ...(page.nextCursor ? { after: page.nextCursor } : {}) });
    assert.equal(rest.items[0]?.name, 'openai');
    assert.equal(rest.nextCursor, undefined);
  });

  it('puts: creates, leaves an identical secret alone, replaces a changed one', async () => {
    const credentials = new PostgresCredentialRepository(database.db, new CredentialCipher({ current: oldKey }));
    assert.equal((await credentials.put(credential('groq', 'gsk_first_secret_value'))).outcome, 'created');
    assert.equal((await credentials.put(credential('groq', 'gsk_first_secret_value'))).outcome, 'unchanged');
    assert.equal((await credentials.put(credential('groq', 'gsk_second_secret_value'))).outcome, 'updated');
    assert.equal(await credentials.reveal('default', 'groq'), 'gsk_second_secret_value');
    await credentials.delete('default', 'groq');
    await assert.rejects(credentials.delete('default', 'groq'), { code: 'not_found' });
    await assert.rejects(credentials.reveal('default', 'groq'), { code: 'not_found' });
  });

  it('refuses to decrypt with a wrong master key, clearly', async () => {
    const wrong = new PostgresCredentialRepository(database.db, new CredentialCipher({ current: newKey }));
    await assert.rejects(wrong.reveal('default', 'openai'), (error: unknown) => {
      assert.ok(error instanceof EnsembleError);
      assert.equal(error.code, 'config_invalid');
      assert.match(error.message, /master key [0-9a-f]{16}, which is not configured: .*ENSEMBLE_MASTER_KEY_PREVIOUS/);
      assert.ok(!error.message.includes(oldKey.toString('base64')));
      return true;
    });
    // A ciphertext moved to another row does not decrypt (it is bound to its project and name).
    await database.pool.query(
      `update credentials set ciphertext = (select ciphertext from credentials where name = 'openai'),
         iv = (select iv from credentials where name = 'openai'), auth_tag = (select auth_tag from credentials where name = 'openai')
       where name = 'anthropic'`,
    );
    const right = new PostgresCredentialRepository(database.db, new CredentialCipher({ current: oldKey }));
    await assert.rejects(right.reveal('default', 'anthropic'), /cannot be decrypted .* altered/);
    await right.put(credential('anthropic', secretB, 'anthropic'));
  });

  it('rotates every credential to the current key, after which the old key is not needed', async () => {
    const rotating = new PostgresCredentialRepository(
      database.db,
      new CredentialCipher({ current: newKey, previous: [oldKey] }),
    );
    assert.equal(await rotating.reveal('default', 'openai'), secretA);
    assert.deepEqual(await rotating.rotate(), { rotated: 2, total: 2 });
    assert.deepEqual(await rotating.rotate(), { rotated: 0, total: 2 });
    const newOnly = new PostgresCredentialRepository(database.db, new CredentialCipher({ current: newKey }));
    assert.equal(await newOnly.reveal('default', 'openai'), secretA);
    assert.equal(await newOnly.reveal('default', 'anthropic'), secretB);
    assert.ok((await newOnly.list({ limit: 10 })).items.every((c) => c.keyId === masterKeyId(newKey)));
    const oldOnly = new PostgresCredentialRepository(database.db, new CredentialCipher({ current: oldKey }));
    await assert.rejects(oldOnly.reveal('default', 'openai'), { code: 'config_invalid' });
  });
});
