/** What the store knows about one artifact: its content address and size. */
export interface ArtifactInfo {
  /** Lowercase hex sha256 of the content; the artifact's only identity. */
  sha256: string;
  sizeBytes: number;
}

export interface ArtifactPutOptions {
  /** When set, a different digest rejects the write (`artifact_corrupt`) and nothing is stored. */
  expectedSha256?: string;
  signal?: AbortSignal;
}

/**
 * Model files and other large blobs, kept by the sha256 of their content (local folder by default,
 * S3 in production). Writes are atomic: a reader never sees a half-written artifact. Streams are
 * async iterables of bytes so that core stays free of Node's I/O types.
 */
export interface ArtifactStore {
  /** Stores the bytes, hashing them on the way; storing the same content twice is a no-op. */
  put(source: AsyncIterable<Uint8Array>, options?: ArtifactPutOptions): Promise<ArtifactInfo>;
  has(sha256: string): Promise<boolean>;
  /** A local file path to the content (a cache for remote stores); `not_found` when absent. */
  path(sha256: string): Promise<string>;
  /** The content as a stream of bytes; `not_found` when absent. */
  open(sha256: string): Promise<AsyncIterable<Uint8Array>>;
  /** Re-hashes the stored content; `artifact_corrupt` when it no longer matches its address. */
  verify(sha256: string): Promise<ArtifactInfo>;
  list(): Promise<ArtifactInfo[]>;
  delete(sha256: string): Promise<void>;
}

/** Checks the shape of a content address (64 lowercase hex characters). */
export function isSha256(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}
