import { createReadStream } from 'node:fs';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  type ArtifactInfo,
  type ArtifactPutOptions,
  type ArtifactStore,
  EnsembleError,
  isSha256,
} from '@ensemble/core';
import { LocalArtifactStore } from './local-artifact-store.ts';

export interface S3ArtifactStoreOptions {
  /**
   * A client for the bucket's region; by default the store makes one (region and credentials from the
   * SDK's default chain: `AWS_REGION`, the ECS task role) and `close()` ends it.
   */
  client?: S3Client;
  /** An S3-compatible store's endpoint (MinIO, Ceph, R2 …), addressed path-style; for the default client. */
  endpoint?: string;
  bucket: string;
  /** Key prefix; an artifact is the object `<prefix><sha256>`. */
  prefix?: string;
  /**
   * Where downloaded copies are kept: models load from files, so `path()` needs one on local disk
   * (`<ENSEMBLE_HOME>/artifacts`). The cache is checked by sha256 like any local store.
   */
  cacheDir: string;
}

/**
 * Artifacts in an S3 bucket (production: the bucket of the Data stack, shared by every instance),
 * with a local cache for the files models load. A write is hashed into the cache first (so a wrong
 * `expectedSha256` stores nothing anywhere), then uploaded under its sha256 — multipart for large
 * files — unless the bucket has it already. A read downloads into the cache and checks the digest, so
 * an object that no longer matches its key is `artifact_corrupt`, never loaded.
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly cache: LocalArtifactStore;
  /** One download per artifact at a time, however many callers ask. */
  private readonly downloads = new Map<string, Promise<void>>();

  constructor(options: S3ArtifactStoreOptions) {
    this.ownsClient = options.client === undefined;
    this.client =
      options.client ??
      new S3Client(options.endpoint === undefined ? {} : { endpoint: options.endpoint, forcePathStyle: true });
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.cache = new LocalArtifactStore(options.cacheDir);
  }

  async put(source: AsyncIterable<Uint8Array>, options: ArtifactPutOptions = {}): Promise<ArtifactInfo> {
    const info = await this.cache.put(source, options);
    if ((await this.remoteSize(info.sha256, options.signal)) !== undefined) return info;
    const abortController = new AbortController();
    const onAbort = () => abortController.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await new Upload({
        client: this.client,
        abortController,
        params: {
          Bucket: this.bucket,
          Key: this.keyOf(info.sha256),
          Body: createReadStream(await this.cache.path(info.sha256)),
          ContentLength: info.sizeBytes,
          ContentType: 'application/octet-stream',
        },
      }).done();
    } catch (error) {
      throw this.failure(error, `upload artifact ${info.sha256}`);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    return info;
  }

  async has(sha256: string): Promise<boolean> {
    if (!isSha256(sha256)) return false;
    return (await this.cache.has(sha256)) || (await this.remoteSize(sha256)) !== undefined;
  }

  async path(sha256: string): Promise<string> {
    await this.fetch(sha256);
    return this.cache.path(sha256);
  }

  async open(sha256: string): Promise<AsyncIterable<Uint8Array>> {
    await this.fetch(sha256);
    return this.cache.open(sha256);
  }

  /** Re-hashes the copy models would load (downloading it, digest-checked, when it is not here). */
  async verify(sha256: string): Promise<ArtifactInfo> {
    await this.fetch(sha256);
    return this.cache.verify(sha256);
  }

  async list(): Promise<ArtifactInfo[]> {
    const found: ArtifactInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.client
        .send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }))
        .catch((error: unknown) => {
          throw this.failure(error, 'list artifacts');
        });
      for (const object of page.Contents ?? []) {
        const sha256 = object.Key?.slice(this.prefix.length) ?? '';
        if (isSha256(sha256)) found.push({ sha256, sizeBytes: object.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found.sort((a, b) => a.sha256.localeCompare(b.sha256));
  }

  async delete(sha256: string): Promise<void> {
    if (!isSha256(sha256)) return;
    await this.client
      .send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }))
      .catch((error: unknown) => {
        throw this.failure(error, `delete artifact ${sha256}`);
      });
    await this.cache.delete(sha256);
  }

  /** Ends the client the store made (its sockets); a client passed in is the caller's. */
  close(): void {
    if (this.ownsClient) this.client.destroy();
  }

  private keyOf(sha256: string): string {
    return `${this.prefix}${sha256}`;
  }

  /** Brings the object into the cache unless it is there; `not_found` when the bucket lacks it too. */
  private async fetch(sha256: string): Promise<void> {
    if (await this.cache.has(sha256)) return;
    if (!isSha256(sha256)) throw this.notFound(sha256);
    let download = this.downloads.get(sha256);
    if (download === undefined) {
      download = this.download(sha256).finally(() => this.downloads.delete(sha256));
      this.downloads.set(sha256, download);
    }
    await download;
  }

  private async download(sha256: string): Promise<void> {
    const object = await this.client
      .send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }))
      .catch((error: unknown) => {
        throw isMissing(error) ? this.notFound(sha256) : this.failure(error, `download artifact ${sha256}`);
      });
    const body = object.Body as AsyncIterable<Uint8Array> | undefined;
    if (body === undefined) throw this.failure(new Error('the object has no body'), `download artifact ${sha256}`);
    // The cache hashes on the way in: an object that does not match its key is refused, not kept.
    await this.cache.put(body, { expectedSha256: sha256 });
  }

  /** The object's size, or undefined when the bucket does not have it. */
  private async remoteSize(sha256: string, signal?: AbortSignal): Promise<number | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }),
        signal === undefined ? {} : { abortSignal: signal },
      );
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failure(error, `look up artifact ${sha256}`);
    }
  }

  private notFound(sha256: string): EnsembleError {
    return new EnsembleError('not_found', `artifact '${sha256}' is not in s3://${this.bucket}/${this.prefix}`, {
      details: { artifact: sha256 },
    });
  }

  private failure(error: unknown, what: string): EnsembleError {
    if (error instanceof EnsembleError) return error;
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new EnsembleError(
      'upstream_error',
      `cannot ${what} in s3://${this.bucket}/${this.prefix}: ${message}${status === undefined ? '' : ` (HTTP ${status})`}`,
      { details: { bucket: this.bucket, ...(status === undefined ? {} : { status }) } },
    );
  }
}

function isMissing(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404;
}
