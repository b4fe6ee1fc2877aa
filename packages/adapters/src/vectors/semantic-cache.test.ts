// The gateway's semantic cache (core) on the embedded vector store and a real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SemanticCache } from '@ensemble/core';
import { createTestDatabase, type TestDatabase } from '@ensemble/testkit';
import { createDatabase, type Database } from '../postgres/create-database.ts';
import { runMigrations } from '../postgres/migration-runner.ts';
import { EmbeddedVectorStore } from './embedded-vector-store.ts';

/** Word-count vectors over a tiny vocabulary: similar wording, similar vectors. */
const vocabulary = ['capital', 'france', 'paris', 'what', 'is', 'the', 'of', 'germany', 'weather', 'today'];
const embed = async (texts: readonly string[]) =>
  texts.map((text) => {
    const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
    return vocabulary.map((word) => words.filter((w) => w === word).length + 0.01);
  });

describe('SemanticCache on the embedded store', { timeout: 60_000 }, () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let store: EmbeddedVectorStore;
  let now = 1_000_000;

  before(async () => {
    testDatabase = await createTestDatabase('semantic_cache');
    database = createDatabase({ url: testDatabase.url });
    await runMigrations(database);
    store = new EmbeddedVectorStore({ pool: database.pool });
  });

  after(async () => {
    await store?.close();
    await database?.close();
    await testDatabase?.drop();
  });

  it('serves a close prompt of the same project and model within the TTL, and nothing else', async () => {
    const cache = new SemanticCache({
      store,
      indexId: 'semantic-cache-test',
      dimension: vocabulary.length,
      embed,
      threshold: 0.9,
      ttlMs: 60_000,
      now: () => now,
    });
    const key = { projectId: 'default', model: 'gpt', prompt: 'What is the capital of France?' };
    assert.equal(await cache.lookup(key), undefined);
    await cache.store(key, 'Paris.');
    const hit = await cache.lookup({ ...key, prompt: 'what is the capital of france' });
    assert.equal(hit?.answer, 'Paris.');
    assert.ok((hit?.similarity ?? 0) > 0.99);
    assert.equal(
      await cache.lookup({ ...key, prompt: 'What is the weather today?' }),
      undefined,
      'a different question',
    );
    assert.equal(await cache.lookup({ ...key, model: 'claude' }), undefined, 'another model');
    assert.equal(await cache.lookup({ ...key, projectId: 'other' }), undefined, 'another project');
    now += 61_000;
    assert.equal(await cache.lookup(key), undefined, 'expired');
  });
});
