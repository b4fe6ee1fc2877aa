import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import {
  streamRun,
  usePipeline,
  usePipelines,
  usePipelineVersion,
  useRun,
  useRuns,
  useSavePipeline,
} from '../../api/pipelines.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { messageOf } from '../../lib/api-client.ts';
import { formatMs, formatTime, formatUsd } from '../../lib/format.ts';
import { applyRunEvent, pipelineGraph, type StepState, statesFromTrace } from '../../lib/pipeline-graph.ts';
import { Link, navigate } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { SelectField, TextArea, TextField } from '../../ui/field.tsx';
import { Badge, Card, PageHeader } from '../../ui/layout.tsx';
import { EmptyState, InlineError, QueryState } from '../../ui/states.tsx';
import { PipelineGraphView } from './pipeline-graph-view.tsx';

const exampleDefinition = JSON.stringify(
  {
    input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    steps: [
      { id: 'language', kind: 'classify', model: 'local/fasttext-lid-176', input: 'input.text' },
      {
        id: 'answer',
        kind: 'model',
        model: 'local/smollm2-135m-instruct',
        prompt: 'Reply in one sentence: {{input.text}}',
        params: { maxTokens: 32 },
      },
    ],
  },
  null,
  2,
);

function parseJson(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `Not valid JSON: ${messageOf(error)}` };
  }
}

export function PipelinesPage() {
  const pipelines = usePipelines();
  return (
    <>
      <PageHeader
        title="Pipelines"
        description="Steps over models, collections and code, versioned; run them and watch each step."
        actions={
          <Button variant="primary" onClick={() => navigate('/pipelines/new')}>
            New pipeline
          </Button>
        }
      />
      <Card>
        <QueryState query={pipelines} loadingLabel="Loading pipelines…">
          {(page) =>
            page.data.length === 0 ? (
              <EmptyState title="No pipelines yet">
                <Link to="/pipelines/new">Create one</Link>, or start Ensemble with <code>--examples</code> for four
                examples.
              </EmptyState>
            ) : (
              <table aria-label="Pipelines">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Latest version</th>
                    <th>Aliases</th>
                    <th>Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((pipeline) => (
                    <tr key={pipeline.name}>
                      <td>
                        <Link to={`/pipelines/${encodeURIComponent(pipeline.name)}`} className="mono">
                          {pipeline.name}
                        </Link>
                        {pipeline.description ? <div className="muted small">{pipeline.description}</div> : null}
                      </td>
                      <td>v{pipeline.latestVersion}</td>
                      <td className="small">
                        {Object.entries(pipeline.aliases)
                          .map(([alias, version]) => `${alias} → v${version}`)
                          .join(', ') || '—'}
                      </td>
                      <td className="small">{formatTime(pipeline.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </QueryState>
      </Card>
    </>
  );
}

function DefinitionEditor({ name: initialName, initial, create }: { name: string; initial: string; create: boolean }) {
  const save = useSavePipeline();
  const [name, setName] = useState(initialName);
  const [text, setText] = useState(initial);
  const parsed = parseJson(text);
  const steps =
    'value' in parsed && Array.isArray((parsed.value as { steps?: unknown }).steps)
      ? ((parsed.value as { steps: Array<Record<string, unknown>> }).steps ?? [])
      : [];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if ('error' in parsed) return;
    save.mutate(
      { name: name.trim(), definition: parsed.value, create },
      { onSuccess: (saved) => navigate(`/pipelines/${encodeURIComponent(saved.name)}`) },
    );
  };
  return (
    <form className="grid grid-2" onSubmit={submit} aria-label={create ? 'New pipeline' : 'Edit the definition'}>
      <div className="stack">
        {create ? (
          <TextField
            label="Pipeline name"
            required
            placeholder="qa"
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        ) : null}
        <TextArea
          label="Definition (JSON)"
          rows={16}
          className="mono"
          spellCheck={false}
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
        {'error' in parsed ? (
          <p className="inline-error" role="alert">
            {parsed.error}
          </p>
        ) : null}
        <InlineError error={save.error} />
        <div className="row">
          <Button type="submit" variant="primary" busy={save.isPending} disabled={'error' in parsed}>
            {create ? 'Create pipeline' : 'Save as a new version'}
          </Button>
        </div>
      </div>
      <div>
        <h2 className="small muted">Preview</h2>
        <PipelineGraphView nodes={pipelineGraph(steps)} states={{}} />
      </div>
    </form>
  );
}

export function NewPipelinePage() {
  return (
    <>
      <PageHeader
        title="New pipeline"
        description="Saved definitions are validated by the API: it names the step and field at fault."
      />
      <Card>
        <DefinitionEditor name="" initial={exampleDefinition} create />
      </Card>
    </>
  );
}

function RunPanel({ name, onStates }: { name: string; onStates: (states: Record<string, StepState>) => void }) {
  const client = useQueryClient();
  const [input, setInput] = useState('{\n  "text": "Bonjour tout le monde"\n}');
  const [running, setRunning] = useState(false);
  const [output, setOutput] = useState<unknown>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [runId, setRunId] = useState<string | null>(null);
  const run = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseJson(input);
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setRunning(true);
    setError(null);
    setOutput(undefined);
    let states: Record<string, StepState> = {};
    onStates(states);
    try {
      await streamRun(name, parsed.value, {
        signal: new AbortController().signal,
        onEvent: (runEvent) => {
          if (runEvent.type === 'run.started') setRunId(String(runEvent.runId));
          else if (runEvent.type === 'run.finished') setOutput(runEvent.output);
          else if (runEvent.type === 'run.failed')
            setError(messageOf((runEvent.error as { message?: string }).message ?? runEvent.error));
          else {
            states = applyRunEvent(states, runEvent);
            onStates(states);
          }
        },
      });
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setRunning(false);
      await client.invalidateQueries({ queryKey: queryKeys.pipelines.runs(name) });
    }
  };
  return (
    <form className="stack" onSubmit={run} aria-label="Run the pipeline">
      <TextArea
        label="Input (JSON)"
        rows={4}
        className="mono"
        value={input}
        onChange={(event) => setInput(event.target.value)}
      />
      <div className="row">
        <Button type="submit" variant="primary" busy={running}>
          Run
        </Button>
        {runId ? <Link to={`/runs/${runId}`}>Trace of {runId}</Link> : null}
      </div>
      {error ? (
        <p className="inline-error" role="alert">
          {error}
        </p>
      ) : null}
      {output !== undefined ? (
        <div className="stack" style={{ gap: 4 }}>
          <strong className="small">Output</strong>
          <pre data-testid="run-output">{typeof output === 'string' ? output : JSON.stringify(output, null, 2)}</pre>
        </div>
      ) : null}
    </form>
  );
}

export function PipelineDetailPage({ params }: { params: Record<string, string> }) {
  const name = params.name ?? '';
  const pipeline = usePipeline(name);
  const [chosen, setChosen] = useState<number | undefined>(undefined);
  const version = usePipelineVersion(name, chosen ?? pipeline.data?.latestVersion);
  const runs = useRuns(name);
  const [states, setStates] = useState<Record<string, StepState>>({});
  return (
    <QueryState query={pipeline} loadingLabel={`Loading ${name}…`}>
      {(current) => (
        <>
          <PageHeader
            title={current.name}
            description={current.description || undefined}
            actions={
              <SelectField
                label="Version"
                value={String(chosen ?? current.latestVersion)}
                onChange={(event) => setChosen(Number(event.target.value))}
                options={(current.versions ?? []).map((item) => ({
                  value: String(item.version),
                  label: `v${item.version}${Object.entries(current.aliases)
                    .filter(([, target]) => target === item.version)
                    .map(([alias]) => ` (${alias})`)
                    .join('')}`,
                }))}
              />
            }
          />
          <div className="stack">
            <div className="grid grid-2">
              <Card title="Graph">
                <QueryState query={version}>
                  {(definition) => (
                    <PipelineGraphView nodes={pipelineGraph(definition.definition.steps)} states={states} />
                  )}
                </QueryState>
              </Card>
              <Card title="Run">
                <RunPanel name={current.name} onStates={setStates} />
              </Card>
            </div>
            <Card title="Recent runs">
              <QueryState query={runs}>
                {(page) =>
                  page.data.length === 0 ? (
                    <EmptyState title="No runs yet" />
                  ) : (
                    <table aria-label="Runs">
                      <thead>
                        <tr>
                          <th>Run</th>
                          <th>Version</th>
                          <th>Status</th>
                          <th className="num">Latency</th>
                          <th className="num">Tokens</th>
                          <th className="num">Cost</th>
                          <th>Started</th>
                        </tr>
                      </thead>
                      <tbody>
                        {page.data.map((run) => (
                          <tr key={run.id}>
                            <td>
                              <Link to={`/runs/${run.id}`} className="mono">
                                {run.id}
                              </Link>
                            </td>
                            <td>v{run.version}</td>
                            <td>
                              <Badge
                                status={
                                  run.status === 'succeeded' ? 'up' : run.status === 'running' ? 'running' : 'down'
                                }
                              >
                                {run.status}
                              </Badge>
                            </td>
                            <td className="num">{formatMs(run.latencyMs)}</td>
                            <td className="num">{run.inputTokens + run.outputTokens}</td>
                            <td className="num">{formatUsd(run.costUsd)}</td>
                            <td className="small">{formatTime(run.createdAt)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  )
                }
              </QueryState>
            </Card>
            <Card title="Edit">
              <QueryState query={version}>
                {(definition) => (
                  <DefinitionEditor
                    key={definition.version}
                    name={current.name}
                    initial={JSON.stringify(definition.definition, null, 2)}
                    create={false}
                  />
                )}
              </QueryState>
            </Card>
          </div>
        </>
      )}
    </QueryState>
  );
}

/** One run: the graph lit from its stored trace, and every step's input and output. */
export function RunPage({ params }: { params: Record<string, string> }) {
  const id = params.id ?? '';
  const run = useRun(id);
  const pipeline = run.data?.pipeline ?? '';
  const version = usePipelineVersion(pipeline, run.data?.version);
  return (
    <QueryState query={run} loadingLabel={`Loading ${id}…`}>
      {(current) => (
        <>
          <PageHeader
            title={current.id}
            description={`${current.pipeline} v${current.version} · ${formatMs(current.latencyMs)} · ${current.inputTokens + current.outputTokens} tokens · ${formatUsd(current.costUsd)}`}
            actions={<Badge status={current.status === 'succeeded' ? 'up' : 'down'}>{current.status}</Badge>}
          />
          <div className="grid grid-2">
            <Card title="Trace">
              {version.data ? (
                <PipelineGraphView
                  nodes={pipelineGraph(version.data.definition.steps)}
                  states={statesFromTrace(current.steps ?? [])}
                />
              ) : null}
            </Card>
            <Card title="Input and output">
              <pre>{JSON.stringify(current.input, null, 2)}</pre>
              <pre style={{ marginTop: 8 }}>{JSON.stringify(current.output ?? current.error, null, 2)}</pre>
              <p className="small">
                <Link to={`/pipelines/${encodeURIComponent(current.pipeline)}`}>← {current.pipeline}</Link>
              </p>
            </Card>
          </div>
        </>
      )}
    </QueryState>
  );
}
