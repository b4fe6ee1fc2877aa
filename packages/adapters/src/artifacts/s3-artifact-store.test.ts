// S3ArtifactStore against S3's REST wire format served on 127.0.0.1 (@ensemble/testkit/fake-s3): S3 cannot
// run here, the SDK and the store's own logic (hashing, caching, multipart, errors) are real.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import { EnsembleError } from '@ensemble/core';
import { type FakeS3, startFakeS3 } from '@ensemble/testkit/fake-s3';
import { S3ArtifactStore } from './s3-artifact-store.ts';

async function* bytes(...parts: Array<string | Buffer>): AsyncIterable<Uint8Array> {
  for (const part of parts) yield Buffer.from(part);
}

const sha = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<EnsembleError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (caught: unknown) => caught,
  );
  assert.ok(EnsembleError.isInstance(error), String(error));
  assert.equal(error.code, code, error.message);
  return error;
}

describe('S3ArtifactStore', () => {
  let s3: FakeS3;
  let scratch: string;
  let client: S3Client;
  let caches = 0;
  const store = () =>
    new S3ArtifactStore({
      client,
      bucket: 'ensemble-artifacts',
      prefix: 'artifacts/',
      cacheDir: join(scratch, `cache-${caches++}`),
    });

  before(async () => {
    s3 = await startFakeS3('ensemble-artifacts');
    scratch = await mkdtemp(join(tmpdir(), 'ensemble-s3-artifacts-'));
    client = new S3Client({
      region: 'eu-west-1',
      endpoint: s3.url,
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAENSEMBLETEST0001', secretAccessKey: 'ensemble/test/secret' },
      maxAttempts: 1,
    });
  });
  after(async () => {
    client.destroy();
    await s3.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('uploads under its sha256 and serves it to another instance from the bucket, digest-checked', async () => {
    const writer = store();
    const info = await writer.put(bytes('model ', 'weights'));
    assert.deepEqual(info, { sha256: sha('model weights'), sizeBytes: 13 });
    assert.equal(s3.objects.get(`artifacts/${info.sha256}`)?.toString(), 'model weights');

    const reader = store(); // another instance: empty cache, same bucket
    assert.equal(await reader.has(info.sha256), true);
    assert.equal(await readFile(await reader.path(info.sha256), 'utf8'), 'model weights');
    let read = '';
    for await (const chunk of await reader.open(info.sha256)) read += Buffer.from(chunk).toString();
    assert.equal(read, 'model weights');
    assert.deepEqual(await reader.verify(info.sha256), info);
    assert.deepEqual(await reader.list(), [info]);

    const uploads = s3.requests.filter((request) => request.method === 'PUT').length;
    assert.deepEqual(await reader.put(bytes('model weights')), info, 'same content, same address');
    assert.equal(s3.requests.filter((request) => request.method === 'PUT').length, uploads, 'not uploaded twice');
  });

  it('downloads once for concurrent readers', async () => {
    const info = await store().put(bytes('shared file'));
    const reader = store();
    const gets = () => s3.requests.filter((request) => request.method === 'GET' && request.url.includes(info.sha256));
    const before = gets().length;
    const paths = await Promise.all(Array.from({ length: 5 }, () => reader.path(info.sha256)));
    assert.equal(new Set(paths).size, 1);
    assert.equal(gets().length - before, 1);
  });

  it('uploads a large file in parts and reads it back whole', async () => {
    const large = randomBytes(6 * 1024 * 1024 + 123);
    const info = await store().put(bytes(large.subarray(0, 1_000_000), large.subarray(1_000_000)));
    assert.ok(s3.requests.some((request) => request.method === 'POST' && request.url.includes('?uploads')));
    assert.equal(info.sha256, sha(large));
    assert.ok((await readFile(await store().path(info.sha256))).equals(large));
  });

  it('refuses a wrong expected digest before anything reaches the bucket', async () => {
    const objects = s3.objects.size;
    await rejectsWith(store().put(bytes('abc'), { expectedSha256: sha('xyz') }), 'artifact_corrupt');
    assert.equal(s3.objects.size, objects);
  });

  it('never serves an object that no longer matches its key, and says when one is missing', async () => {
    const info = await store().put(bytes('original'));
    s3.objects.set(`artifacts/${info.sha256}`, Buffer.from('bit rot'));
    const reader = store();
    await rejectsWith(reader.path(info.sha256), 'artifact_corrupt');
    assert.equal(await reader.has(info.sha256), true, 'the bucket still has an object there');
    const missing = await rejectsWith(reader.path(sha('never stored')), 'not_found');
    assert.match(missing.message, /s3:\/\/ensemble-artifacts\/artifacts\//);
    assert.equal(await reader.has(sha('never stored')), false);
    assert.equal(await reader.has('not-a-digest'), false);
  });

  it('deletes from the bucket and the cache', async () => {
    const writer = store();
    const info = await writer.put(bytes('to delete'));
    await writer.delete(info.sha256);
    assert.equal(s3.objects.has(`artifacts/${info.sha256}`), false);
    assert.equal(await writer.has(info.sha256), false);
  });

  it('reports S3 failures as upstream_error naming the bucket, without credentials', async () => {
    s3.failNext(503);
    const error = await rejectsWith(store().list(), 'upstream_error');
    assert.match(error.message, /cannot list artifacts in s3:\/\/ensemble-artifacts\/artifacts\/: .*HTTP 503/);
    assert.ok(!error.message.includes('ensemble/test/secret'));
  });
});
