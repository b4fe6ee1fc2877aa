import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EnsembleError } from '@ensemble/core';
import { LocalArtifactStore } from './local-artifact-store.ts';

async function* bytes(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield Buffer.from(part);
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('LocalArtifactStore', () => {
  let root: string;
  let store: LocalArtifactStore;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ensemble-artifacts-'));
    store = new LocalArtifactStore(root);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores by the sha256 computed on the way and reads back by it', async () => {
    const info = await store.put(bytes('hello ', 'world'));
    assert.deepEqual(info, { sha256: sha('hello world'), sizeBytes: 11 });
    assert.equal(await store.has(info.sha256), true);
    assert.equal(await readFile(await store.path(info.sha256), 'utf8'), 'hello world');
    let read = '';
    for await (const chunk of await store.open(info.sha256)) read += Buffer.from(chunk).toString();
    assert.equal(read, 'hello world');
    assert.deepEqual(await store.verify(info.sha256), info);
    assert.deepEqual(await store.list(), [info]);
    assert.deepEqual(await store.put(bytes('hello world')), info, 'same content, same address');
  });

  it('refuses content whose digest is not the expected one, leaving nothing behind', async () => {
    const expected = sha('the real weights');
    await assert.rejects(store.put(bytes('tampered'), { expectedSha256: expected }), (error: unknown) => {
      assert.ok(EnsembleError.isInstance(error));
      assert.equal(error.code, 'artifact_corrupt');
      assert.match(error.message, /sha256 mismatch.*expected [0-9a-f]{64}, got [0-9a-f]{64}/);
      return true;
    });
    assert.equal(await store.has(expected), false);
    assert.deepEqual(await readdir(join(root, 'tmp')), [], 'temp file removed');
  });

  it('detects a stored file that was changed on disk', async () => {
    const info = await store.put(bytes('model bytes'));
    await writeFile(await store.path(info.sha256), 'bit rot');
    await assert.rejects(store.verify(info.sha256), { code: 'artifact_corrupt' });
  });

  it('answers not_found for an unknown or malformed address', async () => {
    await assert.rejects(store.path(sha('missing')), { code: 'not_found' });
    await assert.rejects(store.open('not-a-digest'), { code: 'not_found' });
    assert.equal(await store.has('nope'), false);
  });

  it('deletes', async () => {
    const info = await store.put(bytes('to delete'));
    await store.delete(info.sha256);
    assert.equal(await store.has(info.sha256), false);
  });
});
