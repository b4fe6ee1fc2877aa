import { type MetadataPredicate, TopK, type VectorMetadata, type VectorMetric } from '@ensemble/core';
import hnswlib from 'hnswlib-node';
import type { HnswSettings } from './hnsw-settings.ts';

const spaces = { cosine: 'cosine', dotproduct: 'ip', euclidean: 'l2' } as const;

export interface GraphEntry {
  id: string;
  metadata: VectorMetadata | undefined;
}

export interface GraphMatch {
  label: number;
  id: string;
  score: number;
  metadata: VectorMetadata | undefined;
}

/**
 * One namespace in memory: an HNSW graph (hnswlib) serving approximate search, a flat copy of the
 * vectors by label for exact search (normalised for cosine), and each label's id and metadata for
 * filters. Holds nothing durable: PostgreSQL does; this is rebuilt or restored from a snapshot.
 */
export class NamespaceGraph {
  readonly metric: VectorMetric;
  readonly dimension: number;
  readonly #settings: HnswSettings;
  readonly graph: hnswlib.HierarchicalNSW;
  /** Live labels → entry. */
  readonly entries = new Map<number, GraphEntry>();
  readonly labels = new Map<string, number>();
  /** Flat vectors by label (exact search and query by id). */
  values: Float32Array;
  nextLabel = 0;

  constructor(metric: VectorMetric, dimension: number, settings: HnswSettings, restored?: RestoredGraph) {
    this.metric = metric;
    this.dimension = dimension;
    this.#settings = settings;
    this.graph = new hnswlib.HierarchicalNSW(spaces[metric], dimension);
    if (restored) {
      this.graph.readIndexSync(restored.graphFile, false);
      this.values = restored.values;
      this.nextLabel = restored.nextLabel;
    } else {
      this.graph.initIndex({
        maxElements: 1024,
        m: settings.m,
        efConstruction: settings.efConstruction,
        allowReplaceDeleted: false,
      });
      this.values = new Float32Array(1024 * dimension);
    }
    this.graph.setEf(settings.efSearch);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds or replaces the vector under `label` (a new label when `label` is new). */
  put(label: number, id: string, values: ArrayLike<number>, metadata: VectorMetadata | undefined): void {
    const previous = this.entries.get(label);
    if (previous && previous.id !== id) this.labels.delete(previous.id);
    const point = this.#stored(values);
    this.#ensureValueCapacity(label);
    this.values.set(point, label * this.dimension);
    // Counts deleted elements too, so an update may grow it early: harmless.
    if (this.graph.getCurrentCount() >= this.graph.getMaxElements()) {
      this.graph.resizeIndex(Math.max(1024, this.graph.getMaxElements() * 2));
    }
    // hnswlib updates a label it has in place (un-deleting it); deleted slots are not reused, so a
    // namespace with heavy churn grows until it is rebuilt (see docs/collections.md).
    this.graph.addPoint(Array.from(point), label);
    this.entries.set(label, { id, metadata });
    this.labels.set(id, label);
    if (label >= this.nextLabel) this.nextLabel = label + 1;
  }

  setMetadata(label: number, metadata: VectorMetadata | undefined): void {
    const entry = this.entries.get(label);
    if (entry) entry.metadata = metadata;
  }

  remove(label: number): void {
    const entry = this.entries.get(label);
    if (entry) this.labels.delete(entry.id);
    this.entries.delete(label);
    try {
      this.graph.markDelete(label);
    } catch {
      // Already deleted or never added.
    }
  }

  /** The stored (for cosine: normalised) vector of a live label. */
  vectorOf(label: number): Float32Array {
    return this.values.subarray(label * this.dimension, (label + 1) * this.dimension);
  }

  /** The closest `topK` live vectors that pass `filter`: full topK whenever that many match. */
  search(query: ArrayLike<number>, topK: number, filter: MetadataPredicate | undefined): GraphMatch[] {
    const point = this.#stored(query);
    if (this.entries.size === 0) return [];
    if (filter === undefined) {
      const k = Math.min(topK, this.entries.size);
      const found = this.#graphSearch(point, k, undefined);
      return found.length >= k ? found : this.#exact(point, topK, [...this.entries.keys()]);
    }
    const exactOverMatches = () => {
      const matches: number[] = [];
      for (const [label, entry] of this.entries) if (filter(entry.metadata)) matches.push(label);
      return this.#exact(point, topK, matches);
    };
    // Few matches (estimated from a sample): scan and search them exactly, always the true topK.
    if (this.#estimatedMatches(filter) <= this.#settings.exactSearchMaxMatches) return exactOverMatches();
    // Many: the graph search evaluates the filter only on the nodes it visits; if it comes back short
    // (the matches were rarer than the sample said), fall back to the exact search.
    const k = Math.min(topK, this.entries.size);
    const found = this.#graphSearch(point, k, (label) => {
      const entry = this.entries.get(label);
      return entry !== undefined && filter(entry.metadata);
    });
    return found.length >= k ? found : exactOverMatches();
  }

  /** Matches in the namespace estimated from up to 512 random live labels (the whole if smaller). */
  #estimatedMatches(filter: MetadataPredicate): number {
    const size = this.entries.size;
    if (size <= 512) {
      let count = 0;
      for (const entry of this.entries.values()) if (filter(entry.metadata)) count++;
      return count;
    }
    let seen = 0;
    let hits = 0;
    // Labels are dense (deleted ones are skipped); a fixed-step walk from a random start spreads the sample.
    const span = this.nextLabel;
    const step = Math.max(1, Math.floor(span / 512));
    const start = Math.floor(Math.random() * step);
    for (let label = start; label < span && seen < 512; label += step) {
      const entry = this.entries.get(label);
      if (entry === undefined) continue;
      seen++;
      if (filter(entry.metadata)) hits++;
    }
    return seen === 0 ? 0 : Math.ceil((hits / seen) * size);
  }

  #graphSearch(point: Float32Array, k: number, filter: ((label: number) => boolean) | undefined): GraphMatch[] {
    const ef = this.graph.getEf();
    if (ef < k) this.graph.setEf(k);
    const result = this.graph.searchKnn(Array.from(point), k, filter);
    if (ef < k) this.graph.setEf(ef);
    const out: GraphMatch[] = [];
    for (let i = 0; i < result.neighbors.length; i++) {
      const label = result.neighbors[i] as number;
      const entry = this.entries.get(label);
      if (!entry) continue;
      out.push({ label, id: entry.id, metadata: entry.metadata, score: this.#score(result.distances[i] as number) });
    }
    return out;
  }

  /** hnswlib reports distances: 1 - cos, 1 - dot, squared L2. */
  #score(distance: number): number {
    return this.metric === 'euclidean' ? distance : 1 - distance;
  }

  #exact(point: Float32Array, topK: number, labels: Iterable<number>): GraphMatch[] {
    const best = new TopK<{ label: number; score: number }>(topK, this.metric);
    const d = this.dimension;
    const values = this.values;
    const euclidean = this.metric === 'euclidean';
    for (const label of labels) {
      const offset = label * d;
      let score = 0;
      if (euclidean) {
        for (let i = 0; i < d; i++) {
          const diff = (values[offset + i] as number) - (point[i] as number);
          score += diff * diff;
        }
      } else {
        for (let i = 0; i < d; i++) score += (values[offset + i] as number) * (point[i] as number);
      }
      if (best.admits(score)) best.push({ label, score });
    }
    return best.sorted().map(({ label, score }) => {
      const entry = this.entries.get(label) as GraphEntry;
      return { label, score, id: entry.id, metadata: entry.metadata };
    });
  }

  #stored(values: ArrayLike<number>): Float32Array {
    const point = Float32Array.from(values);
    if (this.metric !== 'cosine') return point;
    let norm = 0;
    for (let i = 0; i < point.length; i++) norm += (point[i] as number) ** 2;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < point.length; i++) point[i] = (point[i] as number) / norm;
    return point;
  }

  #ensureValueCapacity(label: number): void {
    const needed = (label + 1) * this.dimension;
    if (needed <= this.values.length) return;
    const grown = new Float32Array(Math.max(needed, this.values.length * 2));
    grown.set(this.values);
    this.values = grown;
  }
}

export interface RestoredGraph {
  graphFile: string;
  values: Float32Array;
  nextLabel: number;
}
