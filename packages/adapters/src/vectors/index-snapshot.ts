import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NamespaceGraph } from './namespace-graph.ts';

/** What a snapshot holds: the change sequence it is complete up to, and one graph file per namespace. */
export interface SnapshotManifest {
  seq: string;
  dimension: number;
  metric: string;
  namespaces: { name: string; file: string; valuesFile: string; nextLabel: number }[];
}

export interface LoadedSnapshot {
  manifest: SnapshotManifest;
  folder: string;
}

/** An index's snapshot folder name: its id made safe for a file system, and unique. */
export function snapshotFolder(root: string, indexId: string): string {
  return join(root, Buffer.from(indexId).toString('base64url'));
}

/**
 * Writes every namespace's graph and flat vectors, then the manifest, into a fresh folder and swaps
 * it in with a rename, so a crash leaves the previous snapshot or the new one, never a mix.
 */
export async function writeSnapshot(
  folder: string,
  seq: bigint,
  spec: { dimension: number; metric: string },
  namespaces: ReadonlyMap<string, NamespaceGraph>,
): Promise<void> {
  const staging = `${folder}.writing`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const manifest: SnapshotManifest = { seq: seq.toString(), ...spec, namespaces: [] };
  let n = 0;
  for (const [name, graph] of namespaces) {
    const file = `ns-${n}.hnsw`;
    const valuesFile = `ns-${n}.f32`;
    n++;
    await graph.graph.writeIndex(join(staging, file));
    const used = graph.values.subarray(0, graph.nextLabel * graph.dimension);
    await writeFile(join(staging, valuesFile), new Uint8Array(used.buffer, used.byteOffset, used.byteLength));
    manifest.namespaces.push({ name, file, valuesFile, nextLabel: graph.nextLabel });
  }
  await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest));
  const old = `${folder}.old`;
  await rm(old, { recursive: true, force: true });
  await rename(folder, old).catch(() => undefined);
  await rename(staging, folder);
  await rm(old, { recursive: true, force: true });
}

/** The snapshot in `folder`, or undefined when there is none or it does not fit the index. */
export async function readSnapshot(
  folder: string,
  spec: { dimension: number; metric: string },
): Promise<LoadedSnapshot | undefined> {
  let manifest: SnapshotManifest;
  try {
    manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as SnapshotManifest;
  } catch {
    return undefined;
  }
  if (manifest.dimension !== spec.dimension || manifest.metric !== spec.metric) return undefined;
  return { manifest, folder };
}

export async function readValuesFile(path: string, length: number): Promise<Float32Array> {
  const bytes = await readFile(path);
  const values = new Float32Array(Math.max(length, bytes.byteLength / 4, 1024));
  new Uint8Array(values.buffer).set(bytes);
  return values;
}

export async function removeSnapshot(folder: string): Promise<void> {
  await rm(folder, { recursive: true, force: true });
}
