import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import {
  ingestDocument,
  type TextRecord,
  upsertTexts,
  useCollection,
  useCollections,
  useCreateCollection,
  useSearchCollection,
} from '../../api/collections.ts';
import { useModels } from '../../api/models.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { messageOf } from '../../lib/api-client.ts';
import { recordsFromFile } from '../../lib/chunk-text.ts';
import { documentIdOf, documentTypeOf } from '../../lib/document-files.ts';
import { formatNumber, formatTime } from '../../lib/format.ts';
import { parsePolicyText } from '../../lib/policy-tree.ts';
import { Link, navigate } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { SelectField, TextArea, TextField } from '../../ui/field.tsx';
import { Card, PageHeader, Stat } from '../../ui/layout.tsx';
import { ProgressBar } from '../../ui/progress-bar.tsx';
import { EmptyState, InlineError, QueryState } from '../../ui/states.tsx';

function CreateCollection() {
  const create = useCreateCollection();
  const models = useModels({ kind: 'embedding' });
  const [name, setName] = useState('');
  const [model, setModel] = useState('');
  const [metric, setMetric] = useState('cosine');
  const chosen = model || models.data?.data[0]?.name || '';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { name: name.trim(), metric, ...(chosen ? { embeddingModel: chosen } : {}) },
      { onSuccess: (created) => navigate(`/collections/${encodeURIComponent(created.name)}`) },
    );
  };
  return (
    <Card title="Create a collection">
      <form className="row" style={{ alignItems: 'flex-end' }} onSubmit={submit} aria-label="Create a collection">
        <TextField
          label="Name"
          required
          placeholder="docs"
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
        <SelectField
          label="Embedding model"
          value={chosen}
          onChange={(event) => setModel(event.target.value)}
          options={(models.data?.data ?? []).map((item) => ({ value: item.name, label: item.name }))}
        />
        <SelectField
          label="Metric"
          value={metric}
          onChange={(event) => setMetric(event.target.value)}
          options={['cosine', 'dotproduct', 'euclidean'].map((value) => ({ value, label: value }))}
        />
        <Button type="submit" variant="primary" busy={create.isPending}>
          Create
        </Button>
      </form>
      <InlineError error={create.error} />
    </Card>
  );
}

export function CollectionsPage() {
  const collections = useCollections();
  return (
    <>
      <PageHeader
        title="Collections"
        description="Searchable sets of embedded documents, in Ensemble's own index or Pinecone."
      />
      <div className="stack">
        <CreateCollection />
        <Card title="Collections">
          <QueryState query={collections} loadingLabel="Loading collections…">
            {(page) =>
              page.data.length === 0 ? (
                <EmptyState title="No collections yet">Create one above, then ingest files into it.</EmptyState>
              ) : (
                <table aria-label="Collections">
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>Backend</th>
                      <th>Embedding model</th>
                      <th className="num">Dimension</th>
                      <th>Metric</th>
                      <th>Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((collection) => (
                      <tr key={collection.name}>
                        <td>
                          <Link to={`/collections/${encodeURIComponent(collection.name)}`} className="mono">
                            {collection.name}
                          </Link>
                        </td>
                        <td>{collection.backend}</td>
                        <td className="mono small">
                          {collection.embedding
                            ? `${collection.embedding.model}@${collection.embedding.version}`
                            : 'vectors only'}
                        </td>
                        <td className="num">{collection.dimension}</td>
                        <td>{collection.metric}</td>
                        <td className="small">{formatTime(collection.createdAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </QueryState>
        </Card>
      </div>
    </>
  );
}

function Ingest({ name }: { name: string }) {
  const client = useQueryClient();
  const [files, setFiles] = useState<File[]>([]);
  const [progress, setProgress] = useState<{
    file: string;
    index: number;
    label: string;
    done: number;
    total: number;
  } | null>(null);
  const [stored, setStored] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ingest = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setStored([]);
    setBusy(true);
    try {
      for (const [index, file] of files.entries()) {
        const type = documentTypeOf(file.name, file.type);
        if (type === undefined) throw new Error(`${file.name}: not a text, Markdown, HTML, PDF or JSON Lines file`);
        const at = (label: string, done: number, total: number) =>
          setProgress({ file: file.name, index, label, done, total });
        let outcome: { chunks: number | null; jobId?: string };
        if (type === 'records') {
          const records: TextRecord[] = recordsFromFile(file.name, await file.text());
          at('records stored', 0, records.length);
          await upsertTexts(name, records, { onProgress: (done) => at('records stored', done, records.length) });
          outcome = { chunks: records.length };
        } else {
          outcome = await ingestDocument(name, file, {
            id: documentIdOf(file.name),
            type,
            onProgress: (step) =>
              at(step.phase === 'uploading' ? 'bytes sent' : 'items processed by the job', step.done, step.total),
          });
        }
        const line = `${file.name}: ${outcome.chunks === null ? 'ingested' : `${formatNumber(outcome.chunks)} chunk${outcome.chunks === 1 ? '' : 's'}`}${outcome.jobId ? ` (job ${outcome.jobId})` : ''}`;
        setStored((current) => [...current, line]);
      }
      await client.invalidateQueries({ queryKey: queryKeys.collections.detail(name) });
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="Ingest files">
      <form className="stack" onSubmit={ingest} aria-label="Ingest files">
        <div className="field">
          <label htmlFor="ingest-files">PDF, HTML, Markdown, text or JSON Lines files</label>
          <input
            id="ingest-files"
            type="file"
            multiple
            accept=".pdf,.html,.htm,.md,.markdown,.txt,.jsonl,.ndjson,text/*,application/pdf"
            onChange={(event) => setFiles([...(event.target.files ?? [])])}
          />
          <span className="muted small">
            Documents go to the server, which extracts their text, splits and embeds it (a file again replaces its
            chunks); JSONL lines are {'{"id", "text", "metadata"}'} records.
          </span>
        </div>
        <div className="row">
          <Button type="submit" variant="primary" busy={busy} disabled={files.length === 0}>
            Ingest
          </Button>
        </div>
        {progress ? (
          <ProgressBar
            label={`Ingesting ${progress.file}`}
            done={progress.done}
            total={progress.total}
            caption={`file ${progress.index + 1} of ${files.length} · ${formatNumber(progress.done)} / ${formatNumber(progress.total)} ${progress.label}`}
          />
        ) : null}
        {stored.length ? (
          <ul className="small" aria-label="Ingested files">
            {stored.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        ) : null}
        <InlineError error={error} />
      </form>
    </Card>
  );
}

function Search({ name }: { name: string }) {
  const search = useSearchCollection(name);
  const [text, setText] = useState('');
  const [topK, setTopK] = useState('5');
  const [filter, setFilter] = useState('');
  const parsedFilter = filter.trim() ? parsePolicyText(filter) : null;
  const filterError = parsedFilter && 'error' in parsedFilter ? parsedFilter.error : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (filterError || !text.trim()) return;
    search.mutate({
      text: text.trim(),
      topK: Number(topK) || 5,
      ...(parsedFilter && 'policy' in parsedFilter ? { filter: parsedFilter.policy } : {}),
    });
  };
  return (
    <Card title="Search">
      <form className="stack" onSubmit={submit} aria-label="Search the collection">
        <div className="row" style={{ alignItems: 'flex-end' }}>
          <TextField label="Query" required value={text} onChange={(event) => setText(event.target.value)} />
          <TextField
            label="Top k"
            type="number"
            min="1"
            max="100"
            value={topK}
            onChange={(event) => setTopK(event.target.value)}
          />
          <Button type="submit" variant="primary" busy={search.isPending}>
            Search
          </Button>
        </div>
        <TextArea
          label="Metadata filter (JSON, optional)"
          rows={2}
          className="mono"
          placeholder='{"source": "handbook.md"}'
          value={filter}
          onChange={(event) => setFilter(event.target.value)}
        />
        {filterError ? (
          <p className="inline-error">
            {filterError.replace(
              'A policy is a model name in quotes, or an object with a strategy.',
              'A filter is a JSON object.',
            )}
          </p>
        ) : null}
      </form>
      <InlineError error={search.error} />
      {search.data ? (
        search.data.matches.length === 0 ? (
          <EmptyState title="No matches" />
        ) : (
          <table aria-label="Matches">
            <thead>
              <tr>
                <th>#</th>
                <th className="num">Score</th>
                <th>Chunk</th>
                <th>Text</th>
              </tr>
            </thead>
            <tbody>
              {search.data.matches.map((match, index) => (
                <tr key={match.id}>
                  <td>{index + 1}</td>
                  <td className="num">{match.score.toFixed(4)}</td>
                  <td className="mono small">{match.id}</td>
                  <td className="small">{String(match.metadata?.text ?? '')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
    </Card>
  );
}

export function CollectionDetailPage({ params }: { params: Record<string, string> }) {
  const name = params.name ?? '';
  const collection = useCollection(name);
  return (
    <QueryState query={collection} loadingLabel={`Loading ${name}…`}>
      {(current) => (
        <>
          <PageHeader title={current.name} description={current.description || `${current.backend} collection`} />
          <div className="stack">
            <div className="grid grid-stats">
              <Stat label="Vectors" value={formatNumber(current.vectorCount ?? 0)} />
              <Stat label="Dimension" value={current.dimension} />
              <Stat label="Metric" value={current.metric} />
              <Stat
                label="Embedding model"
                value={
                  <span className="mono small">
                    {current.embedding ? `${current.embedding.model}@${current.embedding.version}` : 'none'}
                  </span>
                }
              />
            </div>
            <div className="grid grid-2">
              <Ingest name={current.name} />
              <Search name={current.name} />
            </div>
            <p className="small">
              <Link to="/collections">← All collections</Link>
            </p>
          </div>
        </>
      )}
    </QueryState>
  );
}
