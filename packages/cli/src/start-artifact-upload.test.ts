import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { builtInModels } from '@ensemble/providers/local';
import { builtInArtifacts } from './testing/built-in-artifacts.ts';
import { type EnsembleProcess, spawnEnsemble } from './testing/ensemble-process.ts';

// A user's own GGUF file: uploaded through the API (streamed, hashed on the way), registered as a
// local chat model by its sha256, then called — on a fresh `ensemble start` with no built-in models.
describe('uploading a model file and serving it', { timeout: 300_000 }, () => {
  let home: string;
  let ensemble: EnsembleProcess;
  let ggufPath: string;
  let ggufSha256: string;

  before(async () => {
    const smollm = builtInModels.find((model) => model.name === 'local/smollm2-135m-instruct');
    const weights = smollm?.files.find((file) => file.role === 'weights');
    assert.ok(weights, 'the built-in manifest names the SmolLM2 weights');
    ggufSha256 = weights.sha256;
    ggufPath = await (await builtInArtifacts()).path(ggufSha256);
    home = await mkdtemp(join(tmpdir(), 'ensemble-upload-'));
    await chmod(home, 0o755);
    ensemble = await spawnEnsemble(['start'], { ENSEMBLE_HOME: home });
  });
  after(async () => {
    if (ensemble) assert.equal(await ensemble.stop('SIGTERM'), 0, ensemble.output());
    await rm(home, { recursive: true, force: true });
  });

  const upload = (body: RequestInit['body'], headers: Record<string, string> = {}) =>
    fetch(`${ensemble.url}/api/artifacts`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...headers, ...ensemble.auth },
      body,
      duplex: 'half',
    } as RequestInit);

  it('stores a streamed upload under its sha256, refuses wrong digests, empty bodies and other types', async () => {
    const wrongDigest = await upload('some bytes', { 'x-ensemble-sha256': 'a'.repeat(64) });
    assert.equal(wrongDigest.status, 400);
    const wrong = ((await wrongDigest.json()) as { error: { code: string; param: string } }).error;
    assert.deepEqual([wrong.code, wrong.param], ['validation_failed', 'headers.x-ensemble-sha256']);

    assert.equal((await upload('')).status, 400);
    const asJson = await fetch(`${ensemble.url}/api/artifacts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ensemble.auth },
      body: '{}',
    });
    assert.equal(asJson.status, 415);

    const missing = await fetch(`${ensemble.url}/api/artifacts/${'b'.repeat(64)}`, { headers: ensemble.auth });
    assert.equal(missing.status, 404);
    assert.doesNotMatch(await missing.text(), new RegExp(home), 'no server path in the error');
    assert.deepEqual(
      ((await (await fetch(`${ensemble.url}/api/artifacts`, { headers: ensemble.auth })).json()) as { data: unknown[] })
        .data,
      [],
    );
  });

  it('serves a chat model from an uploaded GGUF file', async () => {
    const size = (await stat(ggufPath)).size;
    const stored = await upload(Readable.toWeb(createReadStream(ggufPath)) as ReadableStream, {
      'x-ensemble-sha256': ggufSha256,
    });
    assert.equal(stored.status, 201, await stored.clone().text());
    assert.deepEqual(await stored.json(), { sha256: ggufSha256, sizeBytes: size });
    const listed = (await (await fetch(`${ensemble.url}/api/artifacts`, { headers: ensemble.auth })).json()) as {
      data: Array<{ sha256: string }>;
    };
    assert.deepEqual(
      listed.data.map((artifact) => artifact.sha256),
      [ggufSha256],
    );

    const registered = await fetch(`${ensemble.url}/api/models`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ensemble.auth },
      body: JSON.stringify({
        name: 'team/my-smollm',
        kind: 'chat',
        provider: 'local',
        providerModelId: 'my-smollm',
        artifact: { sha256: ggufSha256, format: 'gguf' },
        parameters: { maxTokens: 12, temperature: 0 },
      }),
    });
    assert.equal(registered.status, 201, await registered.clone().text());

    const answer = await fetch(`${ensemble.url}/api/models/team/my-smollm/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ensemble.auth },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'What is the capital of France?' }] }),
    });
    const body = (await answer.json()) as { message?: { content: string } };
    assert.equal(answer.status, 200, JSON.stringify(body));
    assert.ok((body.message?.content ?? '').trim().length > 0, 'the uploaded model answered');
  });
});
