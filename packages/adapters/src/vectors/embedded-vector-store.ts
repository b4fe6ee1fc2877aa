import { join } from 'node:path';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import {
  canonicalNamespace,
  checkMetadata,
  checkVectorId,
  checkVectorQuery,
  checkVectorRecords,
  checkVectorValues,
  compileMetadataFilter,
  conflict,
  EnsembleError,
  type Logger,
  type MetadataFilterInput,
  notFound,
  silentLogger,
  type VectorDeletion,
  type VectorIdPage,
  type VectorIndex,
  type VectorIndexSpec,
  type VectorIndexStats,
  type VectorMatch,
  type VectorMetadata,
  type VectorMetric,
  type VectorQuery,
  type VectorRecord,
  type VectorStore,
  type VectorUpdate,
  validationError,
  vectorLimits,
} from '@ensemble/core';
import type pg from 'pg';
import { withDatabaseErrors } from '../postgres/database-errors.ts';
import { fromFloat32Bytes, toFloat32Bytes } from './float32-bytes.ts';
import { defaultHnswSettings, type HnswSettings } from './hnsw-settings.ts';
import { readSnapshot, readValuesFile, removeSnapshot, snapshotFolder, writeSnapshot } from './index-snapshot.ts';
import { NamespaceGraph } from './namespace-graph.ts';
import { SerialLock } from './serial-lock.ts';

/** Graph inserts between two yields to the event loop. */
const insertsPerTurn = 32;

export interface EmbeddedVectorStoreOptions {
  pool: pg.Pool;
  /** Where snapshots of the graphs go (`<ENSEMBLE_HOME>/vectors`); without it every start rebuilds. */
  snapshotDir?: string;
  hnsw?: Partial<HnswSettings>;
  /** A snapshot is written once an index has this many unsnapshotted changes… */
  snapshotAfterChanges?: number;
  /** …or when it has any and this long has passed (0: only at close). */
  snapshotIntervalMs?: number;
  logger?: Logger;
  /**
   * Follow instead of write: this process never writes the indexes (writes fail with `forbidden`), takes
   * no snapshots, and before each read brings the index up to date from PostgreSQL (rows newer than its
   * own `seq`, and the deletions the writer traced since). See docs/decisions/0041-vector-index-followers.md.
   */
  follow?: boolean;
  /** A follower's bound on one catch-up; past it the read fails rather than answering from a stale graph. */
  catchUpTimeoutMs?: number;
  /** The writer keeps deletion traces this long for followers (default 1 h); a follower further behind reloads. */
  deletionRetentionMs?: number;
}

interface LoadedIndex {
  id: string;
  spec: VectorIndexSpec;
  /** The index's incarnation (`vector_indexes.created_seq`): another one means dropped and made again. */
  createdSeq: bigint;
  /** Writer: when deletion traces were last pruned. */
  prunedAt: number;
  namespaces: Map<string, NamespaceGraph>;
  /** The newest change applied in memory. */
  seq: bigint;
  unsnapshotted: number;
  lock: SerialLock;
}

/**
 * Ensemble's own vector store. PostgreSQL holds every vector (a write is acknowledged once committed);
 * each namespace is served from memory by an HNSW graph (hnswlib) plus a flat copy for exact search;
 * graphs are snapshotted to disk and, on the first use of an index after a start, restored and brought
 * up to date from the rows changed since (deleted rows drop out), or rebuilt without a snapshot.
 * Writes to one index are serialised within the process, which must be the only writer of its indexes.
 */
export class EmbeddedVectorStore implements VectorStore {
  readonly #pool: pg.Pool;
  readonly #snapshotDir: string | undefined;
  readonly #settings: HnswSettings;
  readonly #snapshotAfterChanges: number;
  readonly #logger: Logger;
  readonly #loaded = new Map<string, Promise<LoadedIndex>>();
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #follow: boolean;
  readonly #catchUpTimeoutMs: number;
  readonly #deletionRetentionMs: number;
  /** Follower: per index, the catch-up running and the one queued behind it (shared by the reads waiting). */
  readonly #catchUps = new Map<string, { running?: Promise<LoadedIndex>; queued?: Promise<LoadedIndex> }>();
  #closed = false;

  constructor(options: EmbeddedVectorStoreOptions) {
    this.#pool = options.pool;
    this.#follow = options.follow === true;
    this.#catchUpTimeoutMs = options.catchUpTimeoutMs ?? 5_000;
    this.#deletionRetentionMs = options.deletionRetentionMs ?? 3_600_000;
    // A follower shares no snapshot folder with the writer (two processes would race on it).
    this.#snapshotDir = this.#follow ? undefined : options.snapshotDir;
    this.#settings = { ...defaultHnswSettings, ...options.hnsw };
    this.#snapshotAfterChanges = options.snapshotAfterChanges ?? 50_000;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'embedded-vectors' });
    const interval = options.snapshotIntervalMs ?? 60_000;
    if (interval > 0 && this.#snapshotDir !== undefined) {
      this.#timer = setInterval(() => void this.snapshotAll({ onlyChanged: true }), interval);
      this.#timer.unref();
    }
  }

  /** True when this store follows (reads only) rather than writes. */
  get following(): boolean {
    return this.#follow;
  }

  /** Refuses a write in a follower: its graphs would silently diverge from the writer's. */
  assertWriter(indexId: string): void {
    if (!this.#follow) return;
    throw new EnsembleError(
      'forbidden',
      `the embedded vector index '${indexId}' is read-only in this process: it follows the index (ensemble worker); ` +
        'writes go through the process that writes it (ensemble start / the API)',
      { details: { index: indexId, reason: 'read_only_follower' } },
    );
  }

  async createIndex(indexId: string, spec: VectorIndexSpec): Promise<void> {
    this.assertWriter(indexId);
    if (!Number.isInteger(spec.dimension) || spec.dimension < 1 || spec.dimension > vectorLimits.maxDimension) {
      throw validationError('dimension', `must be an integer from 1 to ${vectorLimits.maxDimension}`);
    }
    const result = await this.#query(
      'insert into vector_indexes (id, dimension, metric) values ($1, $2, $3) on conflict (id) do nothing',
      [indexId, spec.dimension, spec.metric],
    );
    if (result.rowCount === 0) throw conflict('index', indexId);
  }

  async dropIndex(indexId: string): Promise<void> {
    this.assertWriter(indexId);
    const loaded = this.#loaded.get(indexId);
    const drop = async () => {
      const result = await this.#query('delete from vector_indexes where id = $1', [indexId]);
      this.#loaded.delete(indexId);
      if (this.#snapshotDir !== undefined) await removeSnapshot(snapshotFolder(this.#snapshotDir, indexId));
      if (result.rowCount === 0) throw notFound('index', indexId);
    };
    if (loaded === undefined) return drop();
    const index = await loaded.catch(() => undefined);
    return index ? index.lock.run(drop) : drop();
  }

  index(indexId: string): VectorIndex {
    return new EmbeddedVectorIndex(this, indexId);
  }

  /** Writes a snapshot of every loaded index (with changes only, when asked). */
  async snapshotAll(options: { onlyChanged?: boolean } = {}): Promise<void> {
    if (this.#snapshotDir === undefined) return;
    for (const loading of this.#loaded.values()) {
      const index = await loading.catch(() => undefined);
      if (!index || (options.onlyChanged && index.unsnapshotted === 0)) continue;
      await index.lock
        .run(() => this.#snapshot(index))
        .catch((error: unknown) => {
          this.#logger.warn({ err: (error as Error).message, index: index.id }, 'vector index snapshot failed');
        });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.snapshotAll({ onlyChanged: true });
    this.#loaded.clear();
  }

  // ---- internals used by EmbeddedVectorIndex ----

  async load(indexId: string): Promise<LoadedIndex> {
    let loading = this.#loaded.get(indexId);
    if (loading === undefined) {
      loading = this.#load(indexId);
      this.#loaded.set(indexId, loading);
      loading.catch(() => this.#loaded.delete(indexId));
    }
    return loading;
  }

  /**
   * The index ready for a read. A writer's graphs are always current; a follower's are brought up to date
   * first, so a read sees every write committed before it started. One catch-up per index runs at a time:
   * reads arriving meanwhile share the next one (the running one may have begun before their writes).
   */
  async fresh(indexId: string): Promise<LoadedIndex> {
    if (!this.#follow) return this.load(indexId);
    let state = this.#catchUps.get(indexId);
    if (state === undefined) {
      state = {};
      this.#catchUps.set(indexId, state);
    }
    const current = state;
    if (current.queued) return current.queued;
    const start = () => {
      const run: Promise<LoadedIndex> = this.#catchUp(indexId).finally(() => {
        if (current.running === run) current.running = undefined;
      });
      current.running = run;
      return run;
    };
    if (!current.running) return start();
    const queued = current.running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        current.queued = undefined;
        return start();
      });
    current.queued = queued;
    return queued;
  }

  /** Follower: applies the changes committed since the index's `seq`, or reloads it when that cannot be done. */
  async #catchUp(indexId: string): Promise<LoadedIndex> {
    const loading = this.#loaded.get(indexId);
    // Not loaded yet: a load reads everything committed before it began.
    if (loading === undefined) return this.load(indexId);
    const index = await loading.catch(() => undefined);
    if (index === undefined) return this.load(indexId);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let result: pg.QueryResult<CatchUpRow>;
    try {
      // One statement (one snapshot): the index's head row, then the traced deletions and the changed rows
      // (both through an (index_id, seq) index: nothing is scanned when nothing changed).
      const catchUp = this.#pool.query<CatchUpRow>(
        `select 'h' as kind, null::text as namespace, null::text as id, null::bigint as label, null::jsonb as metadata,
                null::bytea as vals, created_seq as seq, deletions_pruned_seq as pruned
           from vector_indexes where id = $1
         union all
         select 'd', namespace, id, null, null, null, seq, null from vector_deletions where index_id = $1 and seq > $2
         union all
         select 'u', namespace, id, label, metadata, vals, seq, null from vectors where index_id = $1 and seq > $2`,
        [indexId, index.seq.toString()],
      );
      result = await Promise.race([
        catchUp,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.#catchUpTimeoutMs} ms`)),
            this.#catchUpTimeoutMs,
          );
        }),
      ]);
    } catch (error) {
      // Failing the read beats answering from graphs that may miss writes: see decision 0041.
      throw new EnsembleError(
        'database_unavailable',
        `the embedded vector index '${indexId}' could not be brought up to date from PostgreSQL: ${(error as Error).message}`,
        { cause: error, details: { index: indexId, reason: 'follower_catch_up_failed' } },
      );
    } finally {
      if (timer) clearTimeout(timer);
    }
    const head = result.rows.find((r) => r.kind === 'h');
    if (head === undefined) {
      // Dropped by the writer.
      this.#loaded.delete(indexId);
      throw notFound('index', indexId);
    }
    if (BigInt(head.seq) !== index.createdSeq || BigInt(head.pruned as string) > index.seq) {
      // Made again, or behind the deletion traces the writer kept: reload whole.
      this.#logger.info({ index: indexId }, 'vector index follower reloads (recreated, or behind the retention)');
      this.#loaded.delete(indexId);
      return this.load(indexId);
    }
    const changes = result.rows.filter((r) => r.kind !== 'h').sort((a, b) => compareSeq(a.seq, b.seq));
    if (changes.length === 0) return index;
    let newest = index.seq;
    let deletions = 0;
    // Deletions before upserts: every row read is current, so a row deleted then written again ends present.
    for (const change of changes) {
      if (change.kind !== 'd') continue;
      deletions++;
      if (change.id === null) index.namespaces.delete(change.namespace);
      else {
        const graph = index.namespaces.get(change.namespace);
        const label = graph?.labels.get(change.id);
        if (graph && label !== undefined) graph.remove(label);
      }
    }
    let applied = 0;
    for (const change of changes) {
      const seq = BigInt(change.seq);
      if (seq > newest) newest = seq;
      if (change.kind !== 'u') continue;
      // Graph inserts are CPU-bound: yield now and then (reads of this index all wait for this catch-up).
      if (++applied % insertsPerTurn === 0) await yieldTurn();
      let graph = index.namespaces.get(change.namespace);
      if (!graph) {
        graph = new NamespaceGraph(index.spec.metric, index.spec.dimension, this.#settings);
        index.namespaces.set(change.namespace, graph);
      }
      const label = Number(change.label);
      const id = change.id as string;
      const previous = graph.labels.get(id);
      if (previous !== undefined && previous !== label) graph.remove(previous);
      graph.put(label, id, fromFloat32Bytes(change.vals as Buffer), change.metadata ?? undefined);
    }
    index.seq = newest;
    this.#logger.debug(
      {
        index: indexId,
        upserts: changes.length - deletions,
        deletions,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'vector index follower caught up',
    );
    return index;
  }

  /** Writer: drops deletion traces older than the retention (at most every minute), noting the newest dropped. */
  async pruneDeletions(index: LoadedIndex): Promise<void> {
    const now = Date.now();
    if (now - index.prunedAt < Math.min(this.#deletionRetentionMs, 60_000)) return;
    index.prunedAt = now;
    await this.#query(
      `with pruned as (
         delete from vector_deletions where index_id = $1 and deleted_at <= now() - make_interval(secs => $2)
         returning seq)
       update vector_indexes set deletions_pruned_seq = greatest(deletions_pruned_seq, (select max(seq) from pruned))
       where id = $1 and exists (select 1 from pruned)`,
      [index.id, this.#deletionRetentionMs / 1000],
    ).catch((error: unknown) => {
      this.#logger.warn({ err: (error as Error).message, index: index.id }, 'vector deletion traces not pruned');
    });
  }

  async #load(indexId: string): Promise<LoadedIndex> {
    // The head first: every change up to it is in the rows read next (a follower catches up from it;
    // rows newer than it read below are applied again then, harmlessly).
    const found = await this.#query<{ dimension: number; metric: VectorMetric; created_seq: string; head: string }>(
      `select dimension, metric, created_seq, greatest(deletions_pruned_seq,
         (select coalesce(max(seq), 0) from vectors where index_id = $1),
         (select coalesce(max(seq), 0) from vector_deletions where index_id = $1)) as head
       from vector_indexes where id = $1`,
      [indexId],
    );
    const row = found.rows[0];
    if (!row) throw notFound('index', indexId);
    const spec: VectorIndexSpec = { dimension: row.dimension, metric: row.metric };
    const started = performance.now();
    const namespaces = new Map<string, NamespaceGraph>();
    let seq = 0n;
    const folder = this.#snapshotDir === undefined ? undefined : snapshotFolder(this.#snapshotDir, indexId);
    const snapshot = folder === undefined ? undefined : await readSnapshot(folder, spec);
    if (snapshot) {
      seq = BigInt(snapshot.manifest.seq);
      for (const ns of snapshot.manifest.namespaces) {
        const values = await readValuesFile(join(snapshot.folder, ns.valuesFile), ns.nextLabel * spec.dimension);
        namespaces.set(
          ns.name,
          new NamespaceGraph(spec.metric, spec.dimension, this.#settings, {
            graphFile: join(snapshot.folder, ns.file),
            values,
            nextLabel: ns.nextLabel,
          }),
        );
      }
    }
    // Every row's id, label and metadata; values only for rows the snapshot does not hold.
    const rows = await this.#query<{
      namespace: string;
      id: string;
      label: string;
      metadata: VectorMetadata | null;
      seq: string;
      vals: Buffer | null;
    }>(
      'select namespace, id, label, metadata, seq, case when seq > $2 then vals end as vals from vectors where index_id = $1 order by seq',
      [indexId, seq.toString()],
    );
    const live = new Map<string, Set<number>>();
    let replayed = 0;
    let newest = seq;
    for (const r of rows.rows) {
      let graph = namespaces.get(r.namespace);
      if (!graph) {
        graph = new NamespaceGraph(spec.metric, spec.dimension, this.#settings);
        namespaces.set(r.namespace, graph);
      }
      const label = Number(r.label);
      let labels = live.get(r.namespace);
      if (!labels) {
        labels = new Set();
        live.set(r.namespace, labels);
      }
      labels.add(label);
      const metadata = r.metadata ?? undefined;
      if (r.vals !== null) {
        graph.put(label, r.id, fromFloat32Bytes(r.vals), metadata);
        replayed++;
      } else {
        graph.entries.set(label, { id: r.id, metadata });
        graph.labels.set(r.id, label);
        if (label >= graph.nextLabel) graph.nextLabel = label + 1;
      }
      const rowSeq = BigInt(r.seq);
      if (rowSeq > newest) newest = rowSeq;
    }
    // Labels the snapshot has whose rows are gone were deleted after it was taken.
    if (snapshot) {
      for (const [name, graph] of namespaces) {
        const labels = live.get(name) ?? new Set<number>();
        for (const label of graph.graph.getIdsList()) if (!labels.has(label)) graph.remove(label);
      }
    }
    const index: LoadedIndex = {
      id: indexId,
      spec,
      createdSeq: BigInt(row.created_seq),
      prunedAt: 0,
      namespaces,
      seq: this.#follow ? BigInt(row.head) : newest,
      unsnapshotted: replayed,
      lock: new SerialLock(),
    };
    this.#logger.info(
      {
        index: indexId,
        vectors: rows.rowCount,
        replayed,
        fromSnapshot: snapshot !== undefined,
        following: this.#follow,
        ms: Math.round(performance.now() - started),
      },
      'vector index loaded',
    );
    return index;
  }

  async #snapshot(index: LoadedIndex): Promise<void> {
    if (this.#snapshotDir === undefined) return;
    // Only an index still current (not dropped meanwhile) is written.
    if ((await this.#loaded.get(index.id)?.catch(() => undefined)) !== index) return;
    const pending = index.unsnapshotted;
    await writeSnapshot(snapshotFolder(this.#snapshotDir, index.id), index.seq, index.spec, index.namespaces);
    index.unsnapshotted -= pending;
  }

  /** Counts a write and snapshots the index when enough have piled up (inside its lock). */
  async noteChanges(index: LoadedIndex, changes: number, seq: bigint): Promise<void> {
    if (seq > index.seq) index.seq = seq;
    index.unsnapshotted += changes;
    if (index.unsnapshotted >= this.#snapshotAfterChanges) {
      await this.#snapshot(index).catch((error: unknown) => {
        this.#logger.warn({ err: (error as Error).message, index: index.id }, 'vector index snapshot failed');
      });
    }
  }

  async #query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return withDatabaseErrors(() => this.#pool.query<R>(text, values));
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.#query<R>(text, values);
  }

  settings(): HnswSettings {
    return this.#settings;
  }
}

/** One index of the embedded store (a light handle: the index loads on first use). */
class EmbeddedVectorIndex implements VectorIndex {
  readonly #store: EmbeddedVectorStore;
  readonly #id: string;

  constructor(store: EmbeddedVectorStore, id: string) {
    this.#store = store;
    this.#id = id;
  }

  async upsert(records: readonly VectorRecord[], namespace?: string): Promise<{ upsertedCount: number }> {
    this.#store.assertWriter(this.#id);
    const index = await this.#store.load(this.#id);
    checkVectorRecords(records, index.spec.dimension);
    const name = canonicalNamespace(namespace);
    return index.lock.run(async () => {
      const graph = this.#graph(index, name, true) as NamespaceGraph;
      let next = graph.nextLabel;
      const labels = records.map((record) => graph.labels.get(record.id) ?? next++);
      const result = await this.#write<{ label: string; seq: string }>(
        `insert into vectors (index_id, namespace, id, label, vals, metadata)
         select $1, $2, r.id, r.label, r.vals, r.metadata
         from unnest($3::text[], $4::bigint[], $5::bytea[], $6::jsonb[]) as r(id, label, vals, metadata)
         on conflict (index_id, namespace, id) do update
           set vals = excluded.vals, metadata = excluded.metadata, seq = nextval('vector_change_seq')
         returning label, seq`,
        [
          this.#id,
          name,
          records.map((r) => r.id),
          labels,
          records.map((r) => toFloat32Bytes(r.values)),
          records.map((r) => (r.metadata === undefined ? null : JSON.stringify(r.metadata))),
        ],
      );
      // Graph inserts are CPU-bound (≈0.2-1.5 ms each): yield every few so queries and other requests
      // interleave with a large upsert instead of waiting for all of it.
      for (let i = 0; i < records.length; i++) {
        const record = records[i] as VectorRecord;
        graph.put(labels[i] as number, record.id, record.values, record.metadata);
        if (i % insertsPerTurn === insertsPerTurn - 1) await yieldTurn();
      }
      await this.#store.noteChanges(index, records.length, maxSeq(result.rows));
      return { upsertedCount: records.length };
    });
  }

  async query(query: VectorQuery): Promise<VectorMatch[]> {
    const index = await this.#store.fresh(this.#id);
    const filter = checkVectorQuery(query, index.spec.dimension);
    const graph = this.#graph(index, canonicalNamespace(query.namespace), false);
    if (!graph) return [];
    let vector: ArrayLike<number>;
    if (query.vector !== undefined) vector = query.vector;
    else {
      const label = graph.labels.get(query.id as string);
      if (label === undefined) return [];
      vector = graph.vectorOf(label).slice();
    }
    const found = graph.search(vector, query.topK, filter);
    const values =
      query.includeValues === true && found.length > 0
        ? await this.#values(
            canonicalNamespace(query.namespace),
            found.map((m) => m.id),
          )
        : undefined;
    return found.map((match) => ({
      id: match.id,
      score: match.score,
      ...(values ? { values: values.get(match.id) ?? [] } : {}),
      ...(query.includeMetadata === true && match.metadata !== undefined ? { metadata: match.metadata } : {}),
    }));
  }

  async fetch(ids: readonly string[], namespace?: string): Promise<VectorRecord[]> {
    await this.#store.fresh(this.#id);
    checkIds(ids, vectorLimits.maxFetchIds, 'ids');
    const rows = await this.#store.query<{ id: string; vals: Buffer; metadata: VectorMetadata | null }>(
      'select id, vals, metadata from vectors where index_id = $1 and namespace = $2 and id = any($3::text[]) order by id',
      [this.#id, canonicalNamespace(namespace), ids],
    );
    return rows.rows.map((r) => ({
      id: r.id,
      values: fromFloat32Bytes(r.vals),
      ...(r.metadata === null ? {} : { metadata: r.metadata }),
    }));
  }

  async update(update: VectorUpdate): Promise<void> {
    this.#store.assertWriter(this.#id);
    const index = await this.#store.load(this.#id);
    checkVectorId(update.id, 'id');
    if (update.values !== undefined) checkVectorValues(update.values, index.spec.dimension, 'values');
    if (update.setMetadata !== undefined) checkMetadata(update.setMetadata, 'setMetadata');
    if (update.values === undefined && update.setMetadata === undefined) {
      throw validationError('values', 'send values, setMetadata or both');
    }
    const name = canonicalNamespace(update.namespace);
    await index.lock.run(async () => {
      const graph = this.#graph(index, name, false);
      const label = graph?.labels.get(update.id);
      if (!graph || label === undefined) throw notFound('vector', update.id);
      const result = await this.#write<{ metadata: VectorMetadata | null; seq: string }>(
        `update vectors set vals = coalesce($4, vals),
           metadata = case when $5::jsonb is null then metadata else coalesce(metadata, '{}'::jsonb) || $5::jsonb end,
           seq = nextval('vector_change_seq')
         where index_id = $1 and namespace = $2 and id = $3 returning metadata, seq`,
        [
          this.#id,
          name,
          update.id,
          update.values === undefined ? null : toFloat32Bytes(update.values),
          update.setMetadata === undefined ? null : JSON.stringify(update.setMetadata),
        ],
      );
      const row = result.rows[0];
      if (!row) throw notFound('vector', update.id);
      const metadata = row.metadata ?? undefined;
      if (update.values !== undefined) graph.put(label, update.id, update.values, metadata);
      else graph.setMetadata(label, metadata);
      await this.#store.noteChanges(index, 1, BigInt(row.seq));
    });
  }

  async delete(deletion: VectorDeletion): Promise<void> {
    this.#store.assertWriter(this.#id);
    const index = await this.#store.load(this.#id);
    const name = canonicalNamespace(deletion.namespace);
    if ('ids' in deletion) checkIds(deletion.ids, vectorLimits.maxDeleteIds, 'ids');
    const filter = 'filter' in deletion ? compileMetadataFilter(deletion.filter) : undefined;
    await index.lock.run(async () => {
      const graph = this.#graph(index, name, false);
      if ('deleteAll' in deletion) {
        // The trace (id null: the whole namespace) goes in with the delete, for followers.
        await this.#write(
          `with gone as (delete from vectors where index_id = $1 and namespace = $2)
           insert into vector_deletions (index_id, namespace, id, seq) values ($1, $2, null, nextval('vector_change_seq'))`,
          [this.#id, name],
        );
        index.namespaces.delete(name);
        await this.#store.pruneDeletions(index);
        // The namespace's graph is gone from memory; the next snapshot leaves it out.
        await this.#store.noteChanges(index, 1, 0n);
        return;
      }
      if (!graph) return;
      let ids: string[];
      if (filter) {
        ids = [];
        for (const entry of graph.entries.values()) if (filter(entry.metadata)) ids.push(entry.id);
      } else ids = [...(deletion as { ids: string[] }).ids];
      if (ids.length === 0) return;
      // One statement: the rows go and their traces (for followers) come, numbered from the same sequence.
      const result = await this.#write<{ label: string }>(
        `with gone as (
           delete from vectors where index_id = $1 and namespace = $2 and id = any($3::text[]) returning id, label),
         traced as (
           insert into vector_deletions (index_id, namespace, id, seq)
           select $1, $2, id, nextval('vector_change_seq') from gone)
         select label from gone`,
        [this.#id, name, ids],
      );
      for (const row of result.rows) graph.remove(Number(row.label));
      await this.#store.noteChanges(index, result.rows.length, 0n);
      if (result.rows.length > 0) await this.#store.pruneDeletions(index);
    });
  }

  async listIds(options: {
    namespace?: string;
    prefix?: string;
    limit?: number;
    paginationToken?: string;
  }): Promise<VectorIdPage> {
    await this.#store.fresh(this.#id);
    const limit = options.limit ?? vectorLimits.maxListLimit;
    if (!Number.isInteger(limit) || limit < 1 || limit > vectorLimits.maxListLimit) {
      throw validationError('limit', `must be an integer from 1 to ${vectorLimits.maxListLimit}`);
    }
    let after = '';
    if (options.paginationToken !== undefined) {
      try {
        after = Buffer.from(options.paginationToken, 'base64url').toString('utf8');
      } catch {
        throw validationError('paginationToken', 'is not a token this index gave');
      }
    }
    const prefix = options.prefix ?? '';
    const rows = await this.#store.query<{ id: string }>(
      `select id from vectors where index_id = $1 and namespace = $2 and id > $3
         and ($4 = '' or left(id, length($4)) = $4)
       order by id limit $5`,
      [this.#id, canonicalNamespace(options.namespace), after, prefix, limit + 1],
    );
    const ids = rows.rows.slice(0, limit).map((r) => r.id);
    return rows.rows.length > limit
      ? { ids, next: Buffer.from(ids[ids.length - 1] as string).toString('base64url') }
      : { ids };
  }

  async stats(filter?: MetadataFilterInput): Promise<VectorIndexStats> {
    const index = await this.#store.fresh(this.#id);
    const predicate = filter === undefined ? undefined : compileMetadataFilter(filter);
    const namespaces: Record<string, { vectorCount: number }> = {};
    let total = 0;
    for (const [name, graph] of index.namespaces) {
      let count = 0;
      if (predicate) {
        for (const entry of graph.entries.values()) if (predicate(entry.metadata)) count++;
      } else count = graph.size;
      if (count === 0) continue;
      namespaces[name] = { vectorCount: count };
      total += count;
    }
    return { dimension: index.spec.dimension, metric: index.spec.metric, totalVectorCount: total, namespaces };
  }

  #graph(index: LoadedIndex, name: string, create: boolean): NamespaceGraph | undefined {
    let graph = index.namespaces.get(name);
    if (!graph && create) {
      graph = new NamespaceGraph(index.spec.metric, index.spec.dimension, this.#store.settings());
      index.namespaces.set(name, graph);
    }
    return graph;
  }

  async #values(namespace: string, ids: string[]): Promise<Map<string, number[]>> {
    const rows = await this.#store.query<{ id: string; vals: Buffer }>(
      'select id, vals from vectors where index_id = $1 and namespace = $2 and id = any($3::text[])',
      [this.#id, namespace, ids],
    );
    return new Map(rows.rows.map((r) => [r.id, fromFloat32Bytes(r.vals)]));
  }

  /** A write; the index vanishing meanwhile (dropped) is `not_found`, not a foreign-key error. */
  async #write<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.#store.query<R>(text, values);
    } catch (error) {
      if ((error as { code?: string }).code === '23503') throw notFound('index', this.#id);
      throw error;
    }
  }
}

interface CatchUpRow {
  kind: 'h' | 'd' | 'u';
  namespace: string;
  id: string | null;
  label: string | null;
  metadata: VectorMetadata | null;
  vals: Buffer | null;
  seq: string;
  pruned: string | null;
}

function compareSeq(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function maxSeq(rows: readonly { seq: string }[]): bigint {
  let max = 0n;
  for (const row of rows) {
    const seq = BigInt(row.seq);
    if (seq > max) max = seq;
  }
  return max;
}

function checkIds(ids: readonly string[], max: number, field: string): void {
  if (!Array.isArray(ids) || ids.length === 0) throw validationError(field, 'must hold at least one id');
  if (ids.length > max) throw validationError(field, `at most ${max} ids per call, got ${ids.length}`);
  ids.forEach((id, i) => {
    checkVectorId(id, `${field}[${i}]`);
  });
}
