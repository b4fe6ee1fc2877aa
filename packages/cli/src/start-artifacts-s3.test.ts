import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { builtInModels } from '@ensemble/providers/local';
import { type FakeS3, startFakeS3 } from '@ensemble/testkit/fake-s3';
import { builtInArtifacts } from './testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from './testing/ensemble-process.ts';

// Model files in S3 (ENSEMBLE_ARTIFACTS_BUCKET), as in production: uploads go to the bucket, and an
// instance without the file on its disk fetches it from there (digest-checked) to load the model.
// The bucket is S3's wire format served on 127.0.0.1 (S3 cannot run here).
describe('model files in an S3 bucket', { timeout: 300_000 }, () => {
  let s3: FakeS3;
  let home: string;
  let ensemble: EnsembleProcess;
  const minilm = builtInModels.find((model) => model.name === 'local/all-minilm-l6-v2');
  const file = (role: string) => minilm?.files.find((candidate) => candidate.role === role);

  before(async () => {
    s3 = await startFakeS3('ensemble-artifacts');
    home = await mkdtemp(join(tmpdir(), 'ensemble-s3-'));
    await chmod(home, 0o755);
    ensemble = await spawnEnsemble(['start'], {
      ENSEMBLE_HOME: home,
      ENSEMBLE_ARTIFACTS_BUCKET: 'ensemble-artifacts',
      ENSEMBLE_ARTIFACTS_ENDPOINT: s3.url,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIAENSEMBLETEST0001',
      AWS_SECRET_ACCESS_KEY: 'ensemble/test/secret',
    });
  });
  after(async () => {
    if (ensemble) assert.equal(await ensemble.stop('SIGTERM'), 0, ensemble.output());
    await s3?.close();
    await rm(home, { recursive: true, force: true });
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${ensemble.url}${path}`, { ...init, headers: { ...ensemble.auth, ...init.headers } });

  it('uploads to the bucket, and loads a model whose files are only in the bucket', async () => {
    try {
      await uploadsAndLoads();
    } catch (error) {
      // A failure here is often the server's (it died, or refused): show what it printed.
      // `fetch failed` says why only in its cause (a reset socket, a timeout …): print that too.
      const cause = error instanceof Error && error.cause !== undefined ? ` (cause: ${String(error.cause)})` : '';
      throw new Error(`${String(error)}${cause}\n--- ensemble output ---\n${ensemble.output().slice(-6_000)}`, {
        cause: error,
      });
    }
  });

  const uploadsAndLoads = async () => {
    const store = await builtInArtifacts();
    for (const role of ['weights', 'tokenizer']) {
      const sha256 = file(role)?.sha256 as string;
      const stored = await api('/api/artifacts', {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'x-ensemble-sha256': sha256 },
        body: Readable.toWeb(createReadStream(await store.path(sha256))) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      assert.equal(stored.status, 201, await stored.clone().text());
      assert.equal(s3.objects.get(`artifacts/${sha256}`)?.length, file(role)?.sizeBytes);
    }
    // This instance forgets its copies: from here on the files exist only in the bucket.
    await rm(join(home, 'artifacts'), { recursive: true, force: true });

    const listed = (await (await api('/api/artifacts')).json()) as { data: Array<{ sha256: string }> };
    assert.deepEqual(
      listed.data.map((artifact) => artifact.sha256).sort(),
      [file('weights')?.sha256, file('tokenizer')?.sha256].sort(),
    );
    const registered = await api('/api/models', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'team/embedder',
        kind: 'embedding',
        provider: 'local',
        providerModelId: 'my-minilm',
        artifact: { sha256: file('weights')?.sha256, format: 'onnx' },
        options: { tokenizer: file('tokenizer')?.sha256, maxInputTokens: 256 },
      }),
    });
    assert.equal(registered.status, 201, await registered.clone().text());
    const embedded = await api('/api/models/team/embedder/invoke', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: ['model files from S3'] }),
    });
    const body = (await embedded.json()) as { embeddings?: number[][]; dimensions?: number };
    assert.equal(embedded.status, 200, JSON.stringify(body));
    assert.equal(body.dimensions, 384);
    assert.ok(
      s3.requests.some(
        (request) => request.method === 'GET' && request.url.includes(`/artifacts/${file('weights')?.sha256}`),
      ),
      'the weights came from the bucket',
    );
    const verified = await api(`/api/artifacts/${file('weights')?.sha256}`);
    assert.equal(verified.status, 200, await verified.clone().text());
  };
});
