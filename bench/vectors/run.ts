// bench/vectors: Ensemble's embedded vector index against hnswlib-node at the same settings, same run.
//   node bench/vectors/run.ts [--n 100000] [--dim 384] [--queries 200] [--clusters 1000] [--no-http]
// Figures: build time, recall@10 against exact ground truth, QPS on one core (sequential queries),
// filtered queries (10% selectivity) recall and topK fill, and HTTP query latency through a spawned
// `ensemble start` (its own embedded PostgreSQL) on the Pinecone-compatible API.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import hnswlib from 'hnswlib-node';
import { Pool } from 'undici';
import { defaultHnswSettings } from '../../packages/adapters/src/vectors/hnsw-settings.ts';
import { NamespaceGraph } from '../../packages/adapters/src/vectors/namespace-graph.ts';
import { spawnEnsemble, testAdminKey } from '../../packages/cli/src/testing/ensemble-process.ts';
import { compileMetadataFilter } from '../../packages/core/src/vectors/metadata-filter.ts';
import { clusteredDataset, exactTopK, recall } from './dataset.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '384' },
    queries: { type: 'string', default: '200' },
    clusters: { type: 'string', default: '1000' },
    http: { type: 'boolean', default: true },
    'no-http': { type: 'boolean', default: false },
    /** Skip the in-process comparison (only the HTTP part). */
    'http-only': { type: 'boolean', default: false },
    /** Only Ensemble's graph and its filtered paths (no peer, no ef sweep). */
    'filtered-only': { type: 'boolean', default: false },
  },
});
const n = Number(args.n);
const dim = Number(args.dim);
const queryCount = Number(args.queries);
const settings = { ...defaultHnswSettings };
const k = 10;
const filteredOnly = args['filtered-only'];
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
  n,
  dim,
  queries: queryCount,
  clusters: Number(args.clusters),
  settings,
};
const log = (line: string) => process.stdout.write(`${line}\n`);

log(`dataset: ${n} × ${dim}, ${args.clusters} clusters, ${queryCount} queries`);
const data = clusteredDataset(n, dim, queryCount, Number(args.clusters));
let t = performance.now();
const truth = data.queries.map((q) => exactTopK(data, q, k));
const filteredTruth = data.queries.map((q) => exactTopK(data, q, k, (i) => data.buckets[i] === 3));
log(`ground truth: ${((performance.now() - t) / 1000).toFixed(1)} s`);

if (!args['http-only']) {
  // ---- the peer: hnswlib-node alone ----
  t = performance.now();
  const peer = new hnswlib.HierarchicalNSW('cosine', dim);
  peer.initIndex({ maxElements: n, m: settings.m, efConstruction: settings.efConstruction });
  if (!filteredOnly) for (let i = 0; i < n; i++) peer.addPoint(Array.from(data.vectors[i] as Float32Array), i);
  const peerBuildS = (performance.now() - t) / 1000;
  log(`hnswlib-node build: ${peerBuildS.toFixed(1)} s`);

  // ---- Ensemble's in-memory serving component (what EmbeddedVectorStore queries) ----
  t = performance.now();
  const graph = new NamespaceGraph('cosine', dim, settings);
  for (let i = 0; i < n; i++)
    graph.put(i, `v${i}`, data.vectors[i] as Float32Array, { bucket: data.buckets[i] as number });
  const ensembleBuildS = (performance.now() - t) / 1000;
  log(`ensemble graph build: ${ensembleBuildS.toFixed(1)} s`);

  function measure(
    run: (q: Float32Array) => number[],
    truths: number[][],
  ): { recall: number; qps: number; fill: number } {
    // One warm-up pass over a few queries, then the timed pass.
    for (const q of data.queries.slice(0, 20)) run(q);
    let total = 0;
    let filled = 0;
    const start = performance.now();
    const found = data.queries.map((q) => run(q));
    const seconds = (performance.now() - start) / 1000;
    found.forEach((ids, i) => {
      total += recall(ids, truths[i] as number[]);
      if (ids.length >= k) filled++;
    });
    return { recall: total / found.length, qps: found.length / seconds, fill: filled / found.length };
  }

  const sweep: Record<string, unknown>[] = [];
  for (const ef of filteredOnly ? [] : [32, 64, 128]) {
    peer.setEf(ef);
    graph.graph.setEf(ef);
    const p = measure((q) => peer.searchKnn(Array.from(q), k).neighbors, truth);
    const e = measure((q) => graph.search(q, k, undefined).map((m) => m.label), truth);
    sweep.push({ ef, hnswlib: p, ensemble: e });
    log(
      `ef=${ef}: hnswlib recall ${p.recall.toFixed(3)} ${p.qps.toFixed(0)} QPS | ensemble recall ${e.recall.toFixed(3)} ${e.qps.toFixed(0)} QPS`,
    );
  }
  peer.setEf(settings.efSearch);
  graph.graph.setEf(settings.efSearch);

  // ---- filtered: 10% of the vectors match ----
  const filter = compileMetadataFilter({ bucket: { $eq: 3 } });
  // The default path (graph with the filter on visited nodes, as 10% is above exactSearchMaxMatches), the
  // exact path (scan, then exact search over the matches), and the graph forced for every filter.
  const sharing = (overrides: Partial<typeof settings>) => {
    const copy = new NamespaceGraph('cosine', dim, { ...settings, ...overrides });
    Object.assign(copy, { graph: graph.graph, values: graph.values, nextLabel: graph.nextLabel });
    for (const [label, entry] of graph.entries) copy.entries.set(label, entry);
    return copy;
  };
  const exactGraph = sharing({ exactSearchMaxMatches: Number.POSITIVE_INFINITY });
  const filtered = {
    ensembleDefault: measure((q) => graph.search(q, k, filter).map((m) => m.label), filteredTruth),
    ensembleExact: measure((q) => exactGraph.search(q, k, filter).map((m) => m.label), filteredTruth),
    ...(filteredOnly
      ? {}
      : {
          hnswlibFilterCallback: measure(
            (q) => peer.searchKnn(Array.from(q), k, (label) => data.buckets[label] === 3).neighbors,
            filteredTruth,
          ),
        }),
  };
  const show = (name: string, r: { recall: number; fill: number; qps: number } | undefined) =>
    r === undefined ? '' : `${name}: recall ${r.recall.toFixed(3)} fill ${r.fill} ${r.qps.toFixed(0)} QPS | `;
  log(
    `filtered 10%: ${show('ensemble default', filtered.ensembleDefault)}${show('ensemble exact', filtered.ensembleExact)}${show('hnswlib callback', filtered.hnswlibFilterCallback)}`,
  );
  Object.assign(results, {
    build: { hnswlibSeconds: peerBuildS, ensembleSeconds: ensembleBuildS },
    sweep,
    filtered,
  });
}

// ---- through HTTP: a spawned ensemble start, the Pinecone-compatible API ----
if (args.http && !args['no-http']) {
  const home = await mkdtemp(join(tmpdir(), 'ensemble-bench-vectors-'));
  // As root, the embedded PostgreSQL runs as 'postgres' and must reach its data folder.
  await chmod(home, 0o755);
  const ensemble = await spawnEnsemble(['start', '--no-worker'], { ENSEMBLE_HOME: home }, { timeoutMs: 120_000 });
  try {
    const pool = new Pool(ensemble.url, { connections: 4 });
    const headers = { 'api-key': testAdminKey, 'content-type': 'application/json' };
    const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
      const answer = await pool.request({
        method,
        path,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await answer.body.text();
      if (answer.statusCode >= 300) throw new Error(`${method} ${path}: ${answer.statusCode} ${text.slice(0, 300)}`);
      return text === '' ? undefined : JSON.parse(text);
    };
    await call('POST', '/pinecone/indexes', { name: 'bench', dimension: dim, metric: 'cosine' });
    t = performance.now();
    for (let i = 0; i < n; i += 1000) {
      const vectors = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) {
        vectors.push({
          id: `${j}`,
          values: Array.from(data.vectors[j] as Float32Array),
          metadata: { bucket: data.buckets[j] as number },
        });
      }
      await call('POST', '/pinecone/data/bench/vectors/upsert', { vectors });
    }
    const upsertS = (performance.now() - t) / 1000;
    log(
      `http upsert: ${n} vectors in ${upsertS.toFixed(1)} s (${(n / upsertS).toFixed(0)} vectors/s, batches of 1000)`,
    );
    // One untimed pass first: the server's first queries pay for JIT compilation and cold caches,
    // which is not what a running service answers with.
    for (const q of data.queries) await call('POST', '/pinecone/data/bench/query', { vector: Array.from(q), topK: k });
    const latencies: number[] = [];
    const healthz: number[] = [];
    const describe: number[] = [];
    let total = 0;
    for (const [round, q] of data.queries.entries()) {
      const body = { vector: Array.from(q), topK: k };
      const start = performance.now();
      const answer = (await call('POST', '/pinecone/data/bench/query', body)) as { matches: { id: string }[] };
      latencies.push(performance.now() - start);
      // Floors in the same moments: an HTTP round trip doing nothing (/healthz), and an authenticated
      // call that looks the index up and answers (describe) — what a query costs before searching.
      const floorStart = performance.now();
      await call('GET', '/healthz');
      healthz.push(performance.now() - floorStart);
      const describeStart = performance.now();
      await call('GET', '/pinecone/indexes/bench');
      describe.push(performance.now() - describeStart);
      total += recall(
        answer.matches.map((m) => Number(m.id)),
        truth[round] as number[],
      );
    }
    const percentile = (values: number[], p: number) => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
    };
    const pick = (p: number) => percentile(latencies, p);
    const http = {
      upsertSeconds: upsertS,
      p50Ms: pick(0.5),
      p90Ms: pick(0.9),
      p99Ms: pick(0.99),
      recall: total / latencies.length,
      healthzP50Ms: percentile(healthz, 0.5),
      describeP50Ms: percentile(describe, 0.5),
    };
    log(
      `http query: p50 ${http.p50Ms.toFixed(2)} ms, p90 ${http.p90Ms.toFixed(2)} ms, p99 ${http.p99Ms.toFixed(2)} ms, recall ${http.recall.toFixed(3)}; floors p50: /healthz ${http.healthzP50Ms.toFixed(2)} ms, describe ${http.describeP50Ms.toFixed(2)} ms`,
    );
    Object.assign(results, { http });
    await pool.close();
    // A restart: the index is snapshotted at shutdown; the first query after the next start restores it.
    await ensemble.stop();
    const restarted = await spawnEnsemble(['start', '--no-worker'], { ENSEMBLE_HOME: home }, { timeoutMs: 120_000 });
    try {
      const again = new Pool(restarted.url, { connections: 1 });
      const start = performance.now();
      const answer = await again.request({
        method: 'POST',
        path: '/pinecone/data/bench/query',
        headers,
        body: JSON.stringify({ vector: Array.from(data.queries[0] as Float32Array), topK: k }),
      });
      const matches = ((await answer.body.json()) as { matches: { id: string }[] }).matches;
      const firstQueryS = (performance.now() - start) / 1000;
      log(
        `restart: first query ${firstQueryS.toFixed(2)} s (snapshot restore of ${n} vectors), ${matches.length} matches`,
      );
      Object.assign(results, { restart: { firstQuerySeconds: firstQueryS } });
      await again.close();
    } finally {
      await restarted.stop();
    }
  } finally {
    await ensemble.stop();
    await rm(home, { recursive: true, force: true });
  }
}

const out = fileURLToPath(
  new URL(`../results/vectors-${new Date().toISOString().slice(0, 16).replace(':', '')}.json`, import.meta.url),
);
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
log(`results: ${out}`);
