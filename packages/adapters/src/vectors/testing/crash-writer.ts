// A process that writes to the embedded vector store and reports each acknowledged write on stdout,
// then waits to be killed: the crash test kills it between acknowledging writes and snapshotting them.
import { createDatabase } from '../../postgres/create-database.ts';
import { EmbeddedVectorStore } from '../embedded-vector-store.ts';

const [url, snapshotDir, indexId, batches] = process.argv.slice(2) as [string, string, string, string];
const database = createDatabase({ url });
const store = new EmbeddedVectorStore({
  pool: database.pool,
  snapshotDir,
  snapshotIntervalMs: 0,
  snapshotAfterChanges: 1e9,
});
const index = store.index(indexId);
const dimension = 16;
let n = 0;
// Half the writes before a snapshot, half after; one deletion after it too.
for (let b = 0; b < Number(batches); b++) {
  const records = Array.from({ length: 50 }, () => {
    const i = n++;
    return { id: `v${i}`, values: Array.from({ length: dimension }, (_, d) => Math.sin(i * 7 + d)), metadata: { i } };
  });
  await index.upsert(records);
  if (b === Math.floor(Number(batches) / 2)) await store.snapshotAll();
  process.stdout.write(`acked ${n}\n`);
}
await index.delete({ ids: ['v0', 'v1'] });
process.stdout.write('deleted 2\n');
setInterval(() => undefined, 1_000);
