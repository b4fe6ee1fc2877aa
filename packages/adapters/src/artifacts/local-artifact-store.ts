import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ArtifactInfo,
  type ArtifactPutOptions,
  type ArtifactStore,
  EnsembleError,
  isSha256,
} from '@ensemble/core';

/**
 * Artifacts in a local folder (`<ENSEMBLE_HOME>/artifacts`), one file per sha256 under a two-letter
 * fan-out. A write goes to a temp file in the same folder and is renamed into place only after its
 * digest checked out, so a crash or a mismatch never leaves a partial artifact behind.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  async put(source: AsyncIterable<Uint8Array>, options: ArtifactPutOptions = {}): Promise<ArtifactInfo> {
    const expected = options.expectedSha256?.toLowerCase();
    if (expected !== undefined && !isSha256(expected)) {
      throw new EnsembleError('validation_failed', `expectedSha256 '${expected}' is not a sha256 hex digest`, {
        field: 'expectedSha256',
      });
    }
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmpPath = join(tmpDir, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    const file = await open(tmpPath, 'w');
    try {
      for await (const chunk of source) {
        options.signal?.throwIfAborted();
        hash.update(chunk);
        sizeBytes += chunk.byteLength;
        await file.write(chunk);
      }
      await file.sync();
    } catch (error) {
      await file.close();
      await rm(tmpPath, { force: true });
      throw error;
    }
    await file.close();
    const sha256 = hash.digest('hex');
    if (expected !== undefined && sha256 !== expected) {
      await rm(tmpPath, { force: true });
      throw corrupt(expected, sha256, 'the received content');
    }
    const target = this.fileOf(sha256);
    await mkdir(join(target, '..'), { recursive: true });
    await rename(tmpPath, target);
    return { sha256, sizeBytes };
  }

  async has(sha256: string): Promise<boolean> {
    if (!isSha256(sha256)) return false;
    return (await statOrUndefined(this.fileOf(sha256))) !== undefined;
  }

  async path(sha256: string): Promise<string> {
    await this.infoOrThrow(sha256);
    return this.fileOf(sha256);
  }

  async open(sha256: string): Promise<AsyncIterable<Uint8Array>> {
    await this.infoOrThrow(sha256);
    return createReadStream(this.fileOf(sha256));
  }

  async verify(sha256: string): Promise<ArtifactInfo> {
    const info = await this.infoOrThrow(sha256);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(this.fileOf(sha256))) hash.update(chunk as Buffer);
    const actual = hash.digest('hex');
    if (actual !== sha256) throw corrupt(sha256, actual, `the stored file ${this.fileOf(sha256)}`);
    return info;
  }

  async list(): Promise<ArtifactInfo[]> {
    const found: ArtifactInfo[] = [];
    const shards = await readdir(this.root).catch(() => [] as string[]);
    for (const shard of shards) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of await readdir(join(this.root, shard))) {
        if (!isSha256(name)) continue;
        const info = await statOrUndefined(join(this.root, shard, name));
        if (info !== undefined) found.push({ sha256: name, sizeBytes: info.size });
      }
    }
    return found.sort((a, b) => a.sha256.localeCompare(b.sha256));
  }

  async delete(sha256: string): Promise<void> {
    if (isSha256(sha256)) await rm(this.fileOf(sha256), { force: true });
  }

  private fileOf(sha256: string): string {
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  private async infoOrThrow(sha256: string): Promise<ArtifactInfo> {
    const info = isSha256(sha256) ? await statOrUndefined(this.fileOf(sha256)) : undefined;
    if (info === undefined) {
      throw new EnsembleError('not_found', `artifact '${sha256}' is not in the store at ${this.root}`, {
        details: { artifact: sha256 },
      });
    }
    return { sha256, sizeBytes: info.size };
  }
}

function corrupt(expected: string, actual: string, what: string): EnsembleError {
  return new EnsembleError(
    'artifact_corrupt',
    `sha256 mismatch for ${what}: expected ${expected}, got ${actual}. Fix: fetch the file again (ensemble models pull).`,
    { details: { expectedSha256: expected, actualSha256: actual } },
  );
}

async function statOrUndefined(path: string) {
  return stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}
