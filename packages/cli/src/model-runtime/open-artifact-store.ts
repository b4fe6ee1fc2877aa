import { resolve } from 'node:path';
import { LocalArtifactStore, S3ArtifactStore } from '@ensemble/adapters/artifacts';
import type { ArtifactStore, EnsembleConfig } from '@ensemble/core';

export interface OpenedArtifactStore {
  artifacts: ArtifactStore;
  /** `<home>/artifacts`: the files models load (the store itself, or the S3 store's cache). */
  root: string;
  /** Where the files are kept, for logs and messages. */
  location: string;
  close(): void;
}

/** Model files on local disk, or in the S3 bucket ENSEMBLE_ARTIFACTS_BUCKET names (cached on local disk). */
export function openArtifactStore(config: EnsembleConfig): OpenedArtifactStore {
  const root = resolve(config.home, 'artifacts');
  const { artifactsBucket: bucket, artifactsEndpoint: endpoint } = config.runtimes;
  if (bucket === undefined) {
    return { artifacts: new LocalArtifactStore(root), root, location: root, close: () => {} };
  }
  const prefix = 'artifacts/';
  const artifacts = new S3ArtifactStore({
    bucket,
    prefix,
    cacheDir: root,
    ...(endpoint === undefined ? {} : { endpoint }),
  });
  return { artifacts, root, location: `s3://${bucket}/${prefix} (cached in ${root})`, close: () => artifacts.close() };
}
